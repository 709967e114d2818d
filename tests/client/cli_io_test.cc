// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
#include "cli_io.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <string>
#include <thread>

namespace petera::client {
namespace {

// Feeds `data` through a pipe and reads it back with ReadBounded.
Status ReadThroughPipe(const std::string& data, size_t max_bytes, SecretBytes& out) {
  int fds[2];
  if (pipe(fds) != 0) return Error(ErrorCategory::kInternal, "pipe");
  std::thread writer([&] {
    size_t done = 0;
    while (done < data.size()) {
      ssize_t n = write(fds[1], data.data() + done, data.size() - done);
      if (n <= 0) break;
      done += static_cast<size_t>(n);
    }
    close(fds[1]);
  });
  Status status = ReadBounded(fds[0], max_bytes, "the input", out);
  close(fds[0]);  // lets a writer blocked on a refused input finish
  writer.join();
  return status;
}

TEST(ReadBounded, ReadsEmptyInput) {
  SecretBytes out;
  ASSERT_TRUE(ReadThroughPipe("", 10, out).ok());
  EXPECT_TRUE(out.empty());
}

TEST(ReadBounded, ReadsExactlyTheLimit) {
  std::string data(200000, '\0');
  data[12345] = 'x';
  SecretBytes out;
  ASSERT_TRUE(ReadThroughPipe(data, data.size(), out).ok());
  ASSERT_EQ(out.size(), data.size());
  EXPECT_EQ(std::string(out.secret_view().begin(), out.secret_view().end()), data);
}

TEST(ReadBounded, RefusesOneByteOverTheLimit) {
  SecretBytes out;
  Status status = ReadThroughPipe(std::string(101, 'a'), 100, out);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().category(), ErrorCategory::kTooLarge);
  EXPECT_NE(status.error().message().find("the input is larger than 100 bytes"),
            std::string::npos);
  EXPECT_TRUE(out.empty());
}

TEST(ReadBounded, StatesTheLimitInMebibytes) {
  SecretBytes out;
  Status status = ReadThroughPipe(std::string((1u << 20) + 1, 'a'), 1u << 20, out);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.error().message().find("1 MiB"), std::string::npos);
}

TEST(ReadBounded, ReportsAnUnreadableDescriptor) {
  SecretBytes out;
  Status status = ReadBounded(-1, 10, "the input", out);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().category(), ErrorCategory::kUsage);
}

}  // namespace
}  // namespace petera::client
