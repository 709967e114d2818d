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

}  // namespace petera::peterad

#endif  // PETERA_PETERAD_LOGGING_H_
