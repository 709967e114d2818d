// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
#include "arguments.h"

#include <gtest/gtest.h>

namespace petera::client {
namespace {

using Args = std::vector<std::string>;

TEST(SplitAnchor, TakesTheFirstPlainArgumentBeforeTheCommand) {
  auto split = SplitAnchor({"anchor.pem", "encrypt", "host1", "host2"});
  ASSERT_TRUE(split.anchor.has_value());
  EXPECT_EQ(*split.anchor, "anchor.pem");
  EXPECT_EQ(split.rest, (Args{"encrypt", "host1", "host2"}));
  EXPECT_TRUE(split.has_command);
}

TEST(SplitAnchor, SkipsTheValuesOfGlobalOptions) {
  auto split = SplitAnchor({"--timeout", "3", "--crl", "crl.pem", "-v", "a.pem", "decrypt"});
  ASSERT_TRUE(split.anchor.has_value());
  EXPECT_EQ(*split.anchor, "a.pem");
  EXPECT_EQ(split.rest, (Args{"--timeout", "3", "--crl", "crl.pem", "-v", "decrypt"}));
}

TEST(SplitAnchor, KeepsOptionsWithAttachedValues) {
  auto split = SplitAnchor({"--timeout=3", "a.pem", "fetch", "h"});
  EXPECT_EQ(*split.anchor, "a.pem");
  EXPECT_EQ(split.rest, (Args{"--timeout=3", "fetch", "h"}));
}

TEST(SplitAnchor, MovesACommandsOptionsGivenBeforeItToJustAfterIt) {
  auto split = SplitAnchor({"--threshold", "2", "-v", "a.pem", "encrypt", "h1", "h2"});
  ASSERT_TRUE(split.anchor.has_value());
  EXPECT_EQ(*split.anchor, "a.pem");
  EXPECT_EQ(split.rest, (Args{"-v", "encrypt", "--threshold", "2", "h1", "h2"}));
  auto verify = SplitAnchor({"--tls", "--name=h", "a.pem", "verify", "c.pem"});
  EXPECT_EQ(*verify.anchor, "a.pem");
  EXPECT_EQ(verify.rest, (Args{"verify", "--tls", "--name=h", "c.pem"}));
}

TEST(SplitAnchor, NeverTakesAnArgumentAfterTheCommand) {
  auto split = SplitAnchor({"inspect", "a.pem"});
  EXPECT_FALSE(split.anchor.has_value());
  EXPECT_EQ(split.rest, (Args{"inspect", "a.pem"}));
  EXPECT_TRUE(split.has_command);
}

TEST(SplitAnchor, CommandNamesAfterTheCommandAreArguments) {
  auto split = SplitAnchor({"a.pem", "encrypt", "decrypt"});
  EXPECT_EQ(*split.anchor, "a.pem");
  EXPECT_EQ(split.rest, (Args{"encrypt", "decrypt"}));
}

TEST(SplitAnchor, HelpWithoutCommandHasNoCommand) {
  auto split = SplitAnchor({"a.pem", "--help"});
  EXPECT_EQ(*split.anchor, "a.pem");
  EXPECT_EQ(split.rest, (Args{"--help"}));
  EXPECT_FALSE(split.has_command);
}

TEST(SplitAnchor, OnlyOneAnchorIsTaken) {
  auto split = SplitAnchor({"a.pem", "b.pem", "verify", "c.pem"});
  EXPECT_EQ(*split.anchor, "a.pem");
  EXPECT_EQ(split.rest, (Args{"b.pem", "verify", "c.pem"}));
}

}  // namespace
}  // namespace petera::client
