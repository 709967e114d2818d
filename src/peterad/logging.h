// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
//
// peterad logs through spdlog to stderr. Under systemd (JOURNAL_STREAM names
// our stderr) lines carry a syslog priority prefix "<N>" instead of a
// timestamp, and the journal adds its own.
#ifndef PETERA_PETERAD_LOGGING_H_
#define PETERA_PETERAD_LOGGING_H_

#include <string>

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

}  // namespace petera::peterad

#endif  // PETERA_PETERAD_LOGGING_H_
