// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
#include "peterad/logging.h"

#include <gtest/gtest.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <climits>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <thread>

#include "server_test_util.h"

namespace petera::peterad {
namespace {

using ::petera::testing::ReadText;
using ::petera::testing::TempDir;

// Sends stderr to a file for the duration of a test, with peterad's logger.
class LoggingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::fflush(stderr);
    saved_ = dup(STDERR_FILENO);
    std::FILE* file = std::fopen(path_.c_str(), "w");
    ASSERT_NE(file, nullptr);
    ASSERT_EQ(dup2(fileno(file), STDERR_FILENO), STDERR_FILENO);
    std::fclose(file);
    unsetenv("JOURNAL_STREAM");
    ASSERT_TRUE(SetUpLogging("info").ok());
  }
  void TearDown() override {
    dup2(saved_, STDERR_FILENO);
    close(saved_);
  }

  std::string Written() const { return ReadText(path_); }

  // Runs `body` on a thread of its own, as an I/O thread would: batching is
  // a property of the thread.
  static void OnBatchingThread(const std::function<void()>& body) {
    std::thread thread([&] {
      BatchThreadLog();
      body();
    });
    thread.join();
  }

  // `text` holds `first`, then `second`.
  static void ExpectInOrder(const std::string& text, const std::string& first,
                            const std::string& second) {
    size_t a = text.find(first);
    size_t b = text.find(second);
    ASSERT_NE(a, std::string::npos) << "missing " << first << " in:\n" << text;
    ASSERT_NE(b, std::string::npos) << "missing " << second << " in:\n" << text;
    EXPECT_LT(a, b) << text;
  }

  TempDir dir_;
  std::string path_ = dir_ / "stderr";
  int saved_ = -1;
};

TEST_F(LoggingTest, WritesEachLineAtOnceOnAThreadThatDoesNotBatch) {
  spdlog::info("first line");
  EXPECT_NE(Written().find("info: first line\n"), std::string::npos) << Written();
}

TEST_F(LoggingTest, HoldsABatchingThreadsLinesUntilItFlushes) {
  OnBatchingThread([&] {
    spdlog::info("request one");
    spdlog::info("request two");
    EXPECT_EQ(Written(), "") << "nothing before the flush";
    FlushThreadLog();
    ExpectInOrder(Written(), "info: request one\n", "info: request two\n");
  });
}

TEST_F(LoggingTest, WritesAWarningAtOnceAfterTheLinesHeldBeforeIt) {
  OnBatchingThread([&] {
    spdlog::info("held line");
    spdlog::warn("urgent line");
    ExpectInOrder(Written(), "info: held line\n", "warning: urgent line\n");
  });
}

TEST_F(LoggingTest, NeverHoldsMoreThanPipeBuf) {
  // 100 lines of over 100 bytes each: all but the last PIPE_BUF bytes at
  // most must be out before any flush, each line whole.
  const std::string filler(100, 'x');
  size_t total = 0;
  OnBatchingThread([&] {
    for (int i = 0; i < 100; ++i) spdlog::info("line {:03} {}", i, filler);
    total = Written().size();
    FlushThreadLog();
  });
  std::string written = Written();
  EXPECT_GE(total, written.size() - PIPE_BUF);
  EXPECT_LT(total, written.size()) << "the last lines wait for the flush";
  EXPECT_EQ(written.back(), '\n');
  EXPECT_NE(written.find("info: line 000 "), std::string::npos);
  EXPECT_NE(written.find("info: line 099 "), std::string::npos);
  size_t lines = 0;
  for (char c : written) lines += c == '\n' ? 1 : 0;
  EXPECT_EQ(lines, 100u);
}

}  // namespace
}  // namespace petera::peterad
