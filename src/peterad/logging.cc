// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
#include "peterad/logging.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/sink.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <systemd/sd-journal.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace petera::peterad {
namespace {

// "%*" in a pattern: the syslog priority prefix journald understands.
class PriorityFlag : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm& /*tm*/,
              spdlog::memory_buf_t& dest) override {
    const char* prefix = "<6>";
    switch (msg.level) {
      case spdlog::level::trace:
      case spdlog::level::debug:
        prefix = "<7>";
        break;
      case spdlog::level::info:
        prefix = "<6>";
        break;
      case spdlog::level::warn:
        prefix = "<4>";
        break;
      case spdlog::level::err:
        prefix = "<3>";
        break;
      case spdlog::level::critical:
        prefix = "<2>";
        break;
      default:
        break;
    }
    dest.append(prefix, prefix + 3);
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<PriorityFlag>();
  }
};

void WriteToStderr(const char* data, size_t size) {
  while (size > 0) {
    ssize_t n = write(STDERR_FILENO, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // nowhere to log to: drop the lines
    data += n;
    size -= static_cast<size_t>(n);
  }
}

// The lines a batching thread holds (logging.h).
struct ThreadBatch {
  bool enabled = false;
  std::string lines;

  void Flush() {
    if (lines.empty()) return;
    WriteToStderr(lines.data(), lines.size());
    lines.clear();
  }
};
thread_local ThreadBatch t_batch;

// Writes lines to stderr, each with a write(2) of its own or, from a
// batching thread, several together. Only the formatting (the formatter
// caches the time) is under the lock; the system call is not, so I/O
// threads logging requests at the same moment do not queue behind each
// other's writes. Lines are written whole or not at all as far as other
// writers go: every write is at most PIPE_BUF bytes, or a single line.
class StderrLineSink final : public spdlog::sinks::sink {
 public:
  void log(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t line;
    {
      std::lock_guard<std::mutex> lock(mu_);
      formatter_->format(msg, line);
    }
    ThreadBatch& batch = t_batch;
    if (!batch.enabled) return WriteToStderr(line.data(), line.size());
    if (batch.lines.size() + line.size() > PIPE_BUF) batch.Flush();
    if (msg.level > spdlog::level::info || line.size() > PIPE_BUF) {
      batch.Flush();
      return WriteToStderr(line.data(), line.size());
    }
    batch.lines.append(line.data(), line.size());
  }
  void flush() override {}
  void set_pattern(const std::string& pattern) override {
    set_formatter(std::make_unique<spdlog::pattern_formatter>(pattern));
  }
  void set_formatter(std::unique_ptr<spdlog::formatter> formatter) override {
    std::lock_guard<std::mutex> lock(mu_);
    formatter_ = std::move(formatter);
  }

 private:
  std::mutex mu_;
  std::unique_ptr<spdlog::formatter> formatter_ = std::make_unique<spdlog::pattern_formatter>();
};

int SyslogPriority(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::trace:
    case spdlog::level::debug:
      return 7;
    case spdlog::level::warn:
      return 4;
    case spdlog::level::err:
      return 3;
    case spdlog::level::critical:
      return 2;
    default:
      return 6;
  }
}

// One journal entry of FIELD=value items (values may hold any byte: the
// native protocol frames each item by its iovec).
class JournalEntry {
 public:
  void Add(std::string_view field, std::string_view value) {
    if (value.empty()) return;
    items_.push_back(std::string(field) + "=" + std::string(value));
  }
  // False when the journal refused it (the caller then writes to stderr).
  bool Send() const {
    std::vector<iovec> iov;
    iov.reserve(items_.size());
    for (const std::string& item : items_) {
      iov.push_back(iovec{const_cast<char*>(item.data()), item.size()});
    }
    return sd_journal_sendv(iov.data(), static_cast<int>(iov.size())) >= 0;
  }

 private:
  std::vector<std::string> items_;
};

void AddCommonFields(JournalEntry& entry, std::string_view message,
                     spdlog::level::level_enum level) {
  entry.Add("MESSAGE", message);
  entry.Add("PRIORITY", std::to_string(SyslogPriority(level)));
  entry.Add("SYSLOG_IDENTIFIER", "peterad");
}

// Under systemd: each line becomes a journal entry; the stderr sink stays
// as the fallback when the journal refuses one.
class JournalSink final : public spdlog::sinks::sink {
 public:
  explicit JournalSink(std::shared_ptr<spdlog::sinks::sink> fallback)
      : fallback_(std::move(fallback)) {}
  void log(const spdlog::details::log_msg& msg) override {
    JournalEntry entry;
    AddCommonFields(entry, std::string_view(msg.payload.data(), msg.payload.size()), msg.level);
    if (!entry.Send()) fallback_->log(msg);
  }
  void flush() override {}
  void set_pattern(const std::string& pattern) override { fallback_->set_pattern(pattern); }
  void set_formatter(std::unique_ptr<spdlog::formatter> formatter) override {
    fallback_->set_formatter(std::move(formatter));
  }

 private:
  std::shared_ptr<spdlog::sinks::sink> fallback_;
};

bool g_journal = false;
constexpr char kJournalSocket[] = "/run/systemd/journal/socket";

}  // namespace

void LogRequestLine(const std::string& message, const RequestLogFields& fields) {
  if (!spdlog::should_log(spdlog::level::info)) return;
  if (g_journal) {
    JournalEntry entry;
    AddCommonFields(entry, message, spdlog::level::info);
    entry.Add("PETERA_PEER", fields.peer);
    entry.Add("PETERA_CLIENT", fields.client);
    entry.Add("PETERA_KID", fields.kid);
    entry.Add("PETERA_RESULT", fields.result);
    entry.Add("PETERA_ENDPOINT", fields.endpoint);
    entry.Add("PETERA_STATUS", std::to_string(fields.status));
    entry.Add("PETERA_DURATION_US", std::to_string(fields.micros));
    if (entry.Send()) return;
  }
  spdlog::info("{}", message);
}

void BatchThreadLog() {
  t_batch.enabled = true;
  t_batch.lines.reserve(PIPE_BUF);
}

void FlushThreadLog() { t_batch.Flush(); }

bool StderrIsJournal() {
  const char* value = std::getenv("JOURNAL_STREAM");
  if (value == nullptr) return false;
  unsigned long long dev = 0;
  unsigned long long ino = 0;
  if (std::sscanf(value, "%llu:%llu", &dev, &ino) != 2) return false;
  struct stat st {};
  if (fstat(STDERR_FILENO, &st) != 0) return false;
  return static_cast<unsigned long long>(st.st_dev) == dev &&
         static_cast<unsigned long long>(st.st_ino) == ino;
}

Status SetUpLogging(const std::string& level) {
  spdlog::level::level_enum parsed = spdlog::level::from_str(level);
  if (parsed == spdlog::level::off && level != "off") {
    return Error(ErrorCategory::kUsage,
                 "--log-level " + level + ": use trace, debug, info, warn, error, critical or off");
  }
  std::shared_ptr<spdlog::sinks::sink> sink = std::make_shared<StderrLineSink>();
  // sd_journal_send reports success when journald's socket is missing (it
  // drops the entry): use it only when the socket is there.
  struct stat native {};
  g_journal = StderrIsJournal() && stat(kJournalSocket, &native) == 0 && S_ISSOCK(native.st_mode);
  if (g_journal) sink = std::make_shared<JournalSink>(std::move(sink));
  auto logger = std::make_shared<spdlog::logger>("peterad", std::move(sink));
  auto formatter = std::make_unique<spdlog::pattern_formatter>();
  if (StderrIsJournal()) {
    formatter->add_flag<PriorityFlag>('*').set_pattern("%*%v");
  } else {
    // The process id is written in once: "%P" would ask the kernel per line.
    formatter->set_pattern("%Y-%m-%dT%H:%M:%S.%e%z peterad[" + std::to_string(getpid()) +
                           "] %l: %v");
  }
  logger->set_formatter(std::move(formatter));
  logger->set_level(parsed);
  spdlog::set_default_logger(std::move(logger));
  return OkStatus();
}

}  // namespace petera::peterad
