// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
#include <gtest/gtest.h>

#include "recovery_client.h"

namespace petera::client {
namespace {

Envelope WithAddresses(const std::vector<Address>& addresses) {
  Envelope envelope;
  for (const auto& address : addresses) {
    Recipient recipient;
    recipient.address = address;
    envelope.recipients.push_back(std::move(recipient));
  }
  return envelope;
}

TEST(PlanFromEnvelope, OneServerPerRecordedAddressInEnvelopeOrder) {
  Envelope envelope = WithAddresses({{"a", 1}, {"b", 1}, {"a", 1}, {"a", 2}});
  auto plan = PlanFromEnvelope(envelope, {0, 1, 2, 3});
  ASSERT_EQ(plan.size(), 3u);
  EXPECT_EQ(plan[0].address, (Address{"a", 1}));
  EXPECT_EQ(plan[0].recipients, (std::vector<size_t>{0, 2}));
  EXPECT_EQ(plan[1].recipients, (std::vector<size_t>{1}));
  EXPECT_EQ(plan[2].recipients, (std::vector<size_t>{3}));
}

TEST(PlanFromEnvelope, LeavesOutUntrustedRecipients) {
  Envelope envelope = WithAddresses({{"a", 1}, {"b", 1}});
  auto plan = PlanFromEnvelope(envelope, {1});
  ASSERT_EQ(plan.size(), 1u);
  EXPECT_EQ(plan[0].address.host, "b");
}

TEST(PlanForHosts, TriesRecipientsRecordedUnderTheSameNameFirst) {
  Envelope envelope = WithAddresses({{"a", 1}, {"b", 1}, {"c", 1}});
  auto plan = PlanForHosts(envelope, {0, 1, 2}, {{"b", 9}, {"d", 1}});
  ASSERT_EQ(plan.size(), 2u);
  EXPECT_EQ(plan[0].address, (Address{"b", 9}));  // the port moved: name still matches
  EXPECT_EQ(plan[0].recipients, (std::vector<size_t>{1, 0, 2}));
  EXPECT_EQ(plan[1].recipients, (std::vector<size_t>{0, 1, 2}));
}

TEST(PlanForHosts, OffersOnlyTrustedRecipients) {
  Envelope envelope = WithAddresses({{"a", 1}, {"b", 1}});
  auto plan = PlanForHosts(envelope, {1}, {{"a", 1}});
  ASSERT_EQ(plan.size(), 1u);
  EXPECT_EQ(plan[0].recipients, (std::vector<size_t>{1}));
}

TEST(SummaryCategory, PrefersTheMostTellingFailure) {
  std::vector<ServerFailure> failures = {
      {{"a", 1}, Error(ErrorCategory::kNetwork, "down")},
      {{"b", 1}, Error(ErrorCategory::kNotFound, "404")},
  };
  EXPECT_EQ(SummaryCategory(failures), ErrorCategory::kNotFound);
  failures.push_back({{"c", 1}, Error(ErrorCategory::kTrust, "tls")});
  EXPECT_EQ(SummaryCategory(failures), ErrorCategory::kTrust);
  EXPECT_EQ(SummaryCategory({{{"a", 1}, Error(ErrorCategory::kNetwork, "x")}}),
            ErrorCategory::kNetwork);
}

}  // namespace
}  // namespace petera::client
