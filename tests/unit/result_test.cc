// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
#include "petera/result.h"

#include <gtest/gtest.h>

#include <set>

namespace petera {
namespace {

Result<int> Half(int v) {
  if (v % 2 != 0) return Error(ErrorCategory::kUsage, "odd");
  return v / 2;
}

Result<int> Quarter(int v) {
  PETERA_ASSIGN_OR_RETURN(int half, Half(v));
  return Half(half);
}

TEST(Result, CarriesValueOrError) {
  auto good = Half(8);
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(*good, 4);
  auto bad = Half(3);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().category(), ErrorCategory::kUsage);
  EXPECT_EQ(bad.error().message(), "odd");
}

TEST(Result, AssignOrReturnPropagatesTheFirstError) {
  EXPECT_EQ(*Quarter(8), 2);
  EXPECT_EQ(Quarter(6).error().message(), "odd");
}

TEST(Result, WrapPrefixesContextAndKeepsCategory) {
  Error e = Error(ErrorCategory::kTrust, "expired").Wrap("s1");
  EXPECT_EQ(e.message(), "s1: expired");
  EXPECT_EQ(e.category(), ErrorCategory::kTrust);
}

TEST(Errors, ExitCodesAreDistinctForTheDocumentedFailures) {
  std::set<int> codes = {ExitCode(ErrorCategory::kUsage), ExitCode(ErrorCategory::kTrust),
                         ExitCode(ErrorCategory::kNetwork), ExitCode(ErrorCategory::kProtocol),
                         ExitCode(ErrorCategory::kCorrupt), ExitCode(ErrorCategory::kInternal)};
  EXPECT_EQ(codes.size(), 6u);
  EXPECT_EQ(codes.count(0), 0u);
  EXPECT_EQ(ExitCode(ErrorCategory::kCorrupt), 6);
  EXPECT_EQ(ExitCode(ErrorCategory::kTrust), 3);
}

TEST(Errors, HttpStatusesMatchTheProtocol) {
  EXPECT_EQ(HttpStatus(ErrorCategory::kProtocol), 400);
  EXPECT_EQ(HttpStatus(ErrorCategory::kNotFound), 404);
  EXPECT_EQ(HttpStatus(ErrorCategory::kTooLarge), 413);
  EXPECT_EQ(HttpStatus(ErrorCategory::kInternal), 500);
  EXPECT_STREQ(ErrorCode(ErrorCategory::kNotFound), "unknown_kid");
}

}  // namespace
}  // namespace petera
