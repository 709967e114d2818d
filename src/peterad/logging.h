// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
//
// peterad logs through spdlog to stderr. Under systemd (JOURNAL_STREAM names
// our stderr) it writes to the journal directly instead (sd_journal_send),
// so that each request's entry carries structured fields besides its
// message: `journalctl PETERA_KID=...` finds every recovery of one key.
// When journald's native socket is missing, or the journal refuses an
// entry, lines go to stderr with a syslog priority prefix "<N>".
#ifndef PETERA_PETERAD_LOGGING_H_
#define PETERA_PETERAD_LOGGING_H_

#include <string>
#include <string_view>

#include "petera/result.h"

namespace petera::peterad {

// True when stderr is connected to the systemd journal.
bool StderrIsJournal();

// Installs the default logger. `level`: trace, debug, info, warn, error,
// critical, off.
Status SetUpLogging(const std::string& level);

// Batching, for the I/O threads: after BatchThreadLog(), the info and lower
// lines the calling thread logs are kept until FlushThreadLog(), which the
// thread calls before it waits for more work, and written with one write(2).
// A batch never exceeds PIPE_BUF, so that it stays one atomic write on a
// pipe. A warning or an error is written at once, after the lines held
// before it. Lines are thus never held while the thread sleeps; what a
// crash can lose is the batch in progress.
void BatchThreadLog();
void FlushThreadLog();

// What the journal learns of one request, besides its message. Empty
// fields are left out. Never key material: the kid is a loaded key's id.
struct RequestLogFields {
  std::string_view peer;      // PETERA_PEER: the client's address:port
  std::string_view client;    // PETERA_CLIENT: its certificate, when asked for
  std::string_view kid;       // PETERA_KID: the key a recovery used
  std::string_view result;    // PETERA_RESULT: ok or the error code
  std::string_view endpoint;  // PETERA_ENDPOINT: /v1/recover, ... or other
  unsigned status = 0;        // PETERA_STATUS: the HTTP status
  long long micros = 0;       // PETERA_DURATION_US
};

// Logs the line of one answered request at info level: as a journal entry
// with the fields above when stderr is the journal, else as a plain line.
void LogRequestLine(const std::string& message, const RequestLogFields& fields);

}  // namespace petera::peterad

#endif  // PETERA_PETERAD_LOGGING_H_
