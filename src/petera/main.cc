// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
//
// petera: the Petera client. Parses the command line and runs one command;
// see petera(1).
#include <csignal>
#include <exception>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "arguments.h"
#include "cli_io.h"
#include "commands.h"
#include "petera/envelope.h"
#include "petera/result.h"

#ifndef PETERA_VERSION
#define PETERA_VERSION "0"
#endif

namespace {

using petera::client::CommonOptions;
using petera::client::LuksOptions;
using petera::client::VerifyOptions;

const char* const kMainUsage =
    "Usage: petera [OPTIONS] ANCHOR.pem COMMAND [ARGS...]\n"
    "       petera [OPTIONS] [ANCHOR.pem] inspect < secret.jwe\n";

const std::map<std::string, std::string>& CommandUsages() {
  static const std::map<std::string, std::string> kUsages = {
      {"fetch", "petera [OPTIONS] ANCHOR.pem fetch HOST[:PORT] > host.pem"},
      {"encrypt",
       "petera [OPTIONS] ANCHOR.pem encrypt [--threshold T] TARGET... < secret > secret.jwe"},
      {"decrypt", "petera [OPTIONS] ANCHOR.pem decrypt [HOST...] < secret.jwe > secret"},
      {"verify",
       "petera [OPTIONS] ANCHOR.pem verify [--tls | --encryption] [--name HOST] CHAIN.pem"},
      {"inspect", "petera [OPTIONS] [ANCHOR.pem] inspect < secret.jwe"},
      {"luks", "petera [OPTIONS] [ANCHOR.pem] luks ACTION -d DEVICE ..."},
      {"bind",
       "petera [OPTIONS] ANCHOR.pem luks bind -d DEVICE [--threshold T] [--key-file FILE] "
       "TARGET..."},
      {"list", "petera luks list -d DEVICE"},
      {"unbind", "petera luks unbind -d DEVICE -s SLOT"},
      {"pass", "petera [OPTIONS] [ANCHOR.pem] luks pass -d DEVICE [-s SLOT] > passphrase"},
      {"unlock", "petera [OPTIONS] [ANCHOR.pem] luks unlock -d DEVICE [-s SLOT] NAME"},
      {"rebind",
       "petera [OPTIONS] [ANCHOR.pem] luks rebind -d DEVICE -s SLOT [--threshold T] [TARGET...]"},
  };
  return kUsages;
}

// Usage lines with the anchor where users write it, before the command.
class UsageFormatter : public CLI::Formatter {
 public:
  std::string make_usage(const CLI::App* app, std::string /*name*/) const override {
    auto it = CommandUsages().find(app->get_name());
    if (app->get_parent() == nullptr || it == CommandUsages().end()) return kMainUsage;
    return "Usage: " + it->second + "\n";
  }
};

const char* const kDescription =
    "Petera binds secrets to your network: a secret encrypted to Petera servers can\n"
    "be decrypted only while at least one of them (or T of them, with --threshold)\n"
    "is reachable. Every certificate is validated against ANCHOR.pem, the CA\n"
    "certificate(s) you trust.";

const char* const kExamples =
    "Examples:\n"
    "  Save a server's encryption certificate for offline use:\n"
    "    petera anchor.pem fetch keys.example.net > keys.pem\n"
    "  Encrypt to one server online and one offline:\n"
    "    petera anchor.pem encrypt keys.example.net:5700 keys2.pem < key > key.jwe\n"
    "  Encrypt to three servers, any two of which are needed to decrypt:\n"
    "    petera anchor.pem encrypt --threshold 2 s1.pem s2.pem s3.pem < key > key.jwe\n"
    "  Decrypt with the servers recorded in the envelope, or with another one:\n"
    "    petera anchor.pem decrypt < key.jwe > key\n"
    "    petera anchor.pem decrypt 10.0.0.7:5701 < key.jwe > key\n"
    "  Check a saved certificate, list an envelope's servers:\n"
    "    petera anchor.pem verify keys.pem\n"
    "    petera inspect < key.jwe\n"
    "  Bind a LUKS2 volume so that it opens while the servers can be reached:\n"
    "    petera /etc/petera/anchor.pem luks bind -d /dev/sda2 s1.example.net s2.example.net\n"
    "\n"
    "Exit status: 0 success, 1 internal error, 2 usage or input too large, 3 not trusted,\n"
    "4 server unreachable or timed out, 5 server answered wrongly or refused,\n"
    "6 corrupt or tampered envelope. See petera(1).";

struct Parsed {
  CommonOptions common;
  VerifyOptions verify;
  LuksOptions luks;
  std::string command;
  std::string host;
  std::vector<std::string> targets;
  size_t threshold = 1;
  bool allow_empty = false;
  std::vector<std::string> hosts;
};

// Subcommand help does not list the global options; say where they go.
const char* const kGlobalNote =
    "\n\nGlobal options (--timeout SECONDS, --crl FILE, --ocsp MODE, --cert FILE, --key SPEC,\n"
    "-v) may come before or after the command; see petera --help.";

void AddLuksCommands(CLI::App& app, Parsed& p) {
  auto* luks = app.add_subcommand(
      "luks", "Bind a LUKS2 volume's keyslot to Petera servers, and unlock it with them");
  luks->require_subcommand(1);
  luks->footer(
      "A bound keyslot has a random 256-bit passphrase, stored encrypted to the servers in a\n"
      "LUKS2 token of type petera (with the anchor's path), so that pass, unlock, the\n"
      "cryptsetup token plugin and boot need no arguments. See docs/luks.md.\n\n"
      "Examples:\n"
      "  petera /etc/petera/anchor.pem luks bind -d /dev/sda2 s1.example.net s2.pem\n"
      "  petera luks list -d /dev/sda2\n"
      "  petera luks pass -d /dev/sda2 | cryptsetup open --test-passphrase --key-file - /dev/sda2\n"
      "  petera luks rebind -d /dev/sda2 -s 1\n"
      "  petera luks unbind -d /dev/sda2 -s 1" +
      std::string(kGlobalNote));
  auto device = [&](CLI::App* sub) {
    sub->add_option("-d,--device", p.luks.device, "The LUKS2 volume (block device or image file)")
        ->type_name("DEVICE")
        ->required();
  };
  auto slot = [&](CLI::App* sub, bool required) {
    auto* option = sub->add_option("-s,--slot", p.luks.slot, "Keyslot number (see luks list)")
                       ->type_name("SLOT")
                       ->check(CLI::Range(0, 31));
    if (required) option->required();
  };
  auto threshold = [&](CLI::App* sub) {
    sub->add_option("--threshold", p.luks.threshold,
                    "How many of the TARGETs unlocking needs (default 1)")
        ->type_name("T")
        ->check(CLI::Range(size_t{1}, petera::kMaxRecipients));
  };
  auto* bind = luks->add_subcommand(
      "bind", "Add a keyslot with a random passphrase, encrypted to every TARGET (all must be "
              "reachable and trusted; nothing is written otherwise)");
  device(bind);
  threshold(bind);
  bind->add_option("--key-file", p.luks.key_file,
                   "An existing passphrase of the volume, from this file (- for stdin); "
                   "asked on the terminal otherwise")
      ->type_name("FILE");
  bind->add_option("TARGET", p.luks.targets,
                   "A server (name[:port], [IPv6]:port), contacted now, or a PEM file "
                   "written by fetch, used offline")
      ->required();
  auto* list = luks->add_subcommand(
      "list", "One line per Petera token: keyslots, threshold, servers, certificates");
  device(list);
  auto* unbind = luks->add_subcommand(
      "unbind", "Remove a bound keyslot and its token (never the volume's last keyslot)");
  device(unbind);
  slot(unbind, true);
  auto* pass = luks->add_subcommand(
      "pass", "Recover a bound keyslot's passphrase and print it (no newline)");
  device(pass);
  slot(pass, false);
  auto* unlock = luks->add_subcommand(
      "unlock", "Recover a bound keyslot's passphrase and open the volume as /dev/mapper/NAME");
  device(unlock);
  slot(unlock, false);
  unlock->add_option("NAME", p.luks.name, "The device-mapper name")->required();
  auto* rebind = luks->add_subcommand(
      "rebind", "Encrypt a bound keyslot's passphrase again, to the servers' current "
                "certificates (or to new TARGETs); the old token goes only once the new one "
                "is written");
  device(rebind);
  slot(rebind, true);
  threshold(rebind);
  rebind->add_option("TARGET", p.luks.targets,
                     "Servers or PEM files (default: the servers the keyslot is bound to)");
}

void AddCommands(CLI::App& app, Parsed& p) {
  auto* fetch = app.add_subcommand("fetch", "Fetch a server's encryption certificate chain, "
                                            "validate it and print it as a PEM file");
  fetch->add_option("HOST", p.host, "Server: name, name:port, IP:port or [IPv6]:port")
      ->required();
  fetch->footer(std::string("Example:\n  petera anchor.pem fetch keys.example.net:5700 > keys.pem") +
                kGlobalNote);

  auto* encrypt = app.add_subcommand(
      "encrypt", "Encrypt stdin to every TARGET; all must be reachable and trusted");
  encrypt->add_option("TARGET", p.targets,
                      "A server (name[:port], [IPv6]:port), contacted now, or a PEM file "
                      "written by fetch, used offline")
      ->required();
  encrypt
      ->add_option("--threshold", p.threshold,
                   "How many of the TARGETs decryption needs (default 1: any one of them). "
                   "With T > 1 each TARGET gets a share of the key, and any T shares give it back")
      ->type_name("T")
      ->check(CLI::Range(size_t{1}, petera::kMaxRecipients));
  encrypt->add_flag("--allow-empty", p.allow_empty,
                    "Encrypt empty input too (refused by default: an empty key is a mistake)");
  encrypt->footer(
      "Examples:\n"
      "  petera anchor.pem encrypt s1.example.net s2.example.net:5701 < key > key.jwe\n"
      "  petera anchor.pem encrypt s1.pem s2.pem < key > key.jwe        (offline)\n"
      "  petera anchor.pem encrypt s1.example.net s2.pem < key > key.jwe (mixed)\n"
      "  petera anchor.pem encrypt --threshold 2 s1.pem s2.pem s3.pem < key > key.jwe" +
      std::string(kGlobalNote));

  auto* decrypt = app.add_subcommand(
      "decrypt",
      "Decrypt stdin with the help of the first server that answers (the first T, for an "
      "envelope made with --threshold T)");
  decrypt->add_option("HOST", p.hosts,
                      "Servers to ask instead of those recorded in the envelope");
  decrypt->footer(
      "Examples:\n"
      "  petera anchor.pem decrypt < key.jwe > key\n"
      "  petera --timeout 3 anchor.pem decrypt new-host:5700 < key.jwe > key" +
      std::string(kGlobalNote));

  auto* verify = app.add_subcommand(
      "verify", "Check a certificate chain file against the anchor, as petera would");
  auto* tls = verify->add_flag("--tls", p.verify.tls, "Check it as a server's TLS chain");
  auto* encryption = verify->add_flag("--encryption", p.verify.encryption,
                                      "Check it as an encryption chain (the default)");
  tls->excludes(encryption);
  verify->add_option("--name", p.verify.name,
                     "Server name to check (default: the file's Petera-Server: line, "
                     "else the leaf's first DNS subjectAltName that is not a wildcard, "
                     "else its first IP one)")
      ->type_name("HOST");
  auto* ocsp_response =
      verify->add_option("--ocsp-response", p.verify.ocsp_response,
                         "With --tls: also check this DER OCSP response for the chain's leaf, as "
                         "a client checks a stapled one (before peterad --ocsp-response uses it)")
          ->type_name("FILE");
  ocsp_response->needs(tls);
  verify->add_option("CHAIN", p.verify.chain_path, "PEM file, leaf first")->required();
  verify->footer(
      "Examples:\n"
      "  petera anchor.pem verify keys.pem\n"
      "  petera anchor.pem verify --tls --name keys.example.net tls.pem\n"
      "  petera anchor.pem verify --tls --ocsp-response tls.ocsp.der tls.pem" +
      std::string(kGlobalNote));

  auto* inspect = app.add_subcommand(
      "inspect", "List an envelope's recipients without network access");
  inspect->footer(std::string("Example:\n  petera anchor.pem inspect < key.jwe") + kGlobalNote);
  AddLuksCommands(app, p);
}

void AddGlobalOptions(CLI::App& app, Parsed& p) {
  app.add_option("--timeout", p.common.timeout_seconds,
                 "Seconds allowed per server for connecting and the requests (default 10)")
      ->type_name("SECONDS")
      ->check(CLI::Range(1u, 3600u))
      ->each([&p](const std::string&) { p.common.timeout_given = true; });
  app.add_option("--crl", p.common.crls,
                 "CRL file (PEM) to check revocation against; repeatable")
      ->type_name("FILE");
  app.add_option_function<std::string>(
         "--ocsp",
         [&p](const std::string& mode) {
           // IsMember below has admitted only the three names.
           if (auto policy = petera::ParseOcspPolicy(mode); policy.ok()) p.common.ocsp = *policy;
           p.common.ocsp_given = true;
         },
         "The OCSP response a server staples for its TLS certificate: prefer (default: "
         "check it when stapled; required when the certificate says must-staple), require "
         "(refuse a server that staples none) or off")
      ->type_name("MODE")
      ->check(CLI::IsMember({"prefer", "require", "off"}).description(""));
  app.add_option("--cert", p.common.cert,
                 "Client certificate chain and private key (PEM, chmod 600) for servers that "
                 "authorize clients")
      ->type_name("FILE");
  app.add_option("--key", p.common.key,
                 "The client's private key when not in --cert: a PEM file, a TSS2 PEM file or "
                 "handle:0x81000001 (TPM 2.0, through OpenSSL's tpm2 provider)")
      ->type_name("FILE|handle:N");
  app.add_flag("-v,--verbose", p.common.verbose, "Report each server's progress on stderr");
  app.set_version_flag("--version", "petera " PETERA_VERSION);
}

petera::Status Run(const Parsed& p) {
  using namespace petera::client;
  if (p.command == "fetch") return RunFetch(p.common, p.host);
  if (p.command == "encrypt") return RunEncrypt(p.common, p.targets, p.threshold, p.allow_empty);
  if (p.command == "decrypt") return RunDecrypt(p.common, p.hosts);
  if (p.command == "verify") return RunVerify(p.common, p.verify);
  if (p.command == "luks") return RunLuks(p.common, p.luks);
  return RunInspect(p.common);
}

bool AsksForHelp(const std::vector<std::string>& args) {
  for (const auto& arg : args) {
    if (arg == "-h" || arg == "--help" || arg == "--version") return true;
  }
  return false;
}

int Fail(const std::string& message) {
  petera::client::Reporter(false).Line(message);
  return petera::ExitCode(petera::ErrorCategory::kUsage);
}

// The last line of defence: code below reports failures as Status, but an
// exception that escapes anyway (std::bad_alloc, a library's) must end in one
// line and exit status 1, never in std::terminate.
int ReportInternalError(const std::string& what) {
  try {
    petera::client::Reporter(false).Line("internal error: " + what);
  } catch (...) {
  }
  return petera::ExitCode(petera::ErrorCategory::kInternal);
}

int Main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  auto split = petera::client::SplitAnchor(args);
  if (!split.has_command && !AsksForHelp(args)) {
    return Fail(
        "no command given (fetch, encrypt, decrypt, verify, inspect or luks; see petera --help)");
  }
  Parsed parsed;
  if (split.anchor) parsed.common.anchor = *split.anchor;
  CLI::App app(kDescription, "petera");
  app.formatter(std::make_shared<UsageFormatter>());
  app.require_subcommand(1);
  app.fallthrough();
  AddGlobalOptions(app, parsed);
  AddCommands(app, parsed);
  app.footer(kExamples);
  // CLI11 wants the arguments reversed when given as a vector.
  std::vector<std::string> rest(split.rest.rbegin(), split.rest.rend());
  try {
    app.parse(rest);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);
    return Fail(std::string(e.what()) + " (see petera --help)");
  }
  const CLI::App* command = app.get_subcommands().front();
  parsed.command = command->get_name();
  if (parsed.command == "luks") {
    const CLI::App* action = command->get_subcommands().front();
    parsed.luks.action = action->get_name();
    const CLI::Option* threshold = action->get_option_no_throw("--threshold");
    parsed.luks.threshold_given = threshold != nullptr && threshold->count() > 0;
  }
  auto status = Run(parsed);
  if (status.ok()) return 0;
  petera::client::Reporter(false).Line(status.error().message());
  return petera::ExitCode(status.error().category());
}

}  // namespace

int main(int argc, char** argv) {
  // A closed stdout must be an error we report, not a silent death.
  std::signal(SIGPIPE, SIG_IGN);
  try {
    return Main(argc, argv);
  } catch (const std::exception& e) {
    return ReportInternalError(e.what());
  } catch (...) {
    return ReportInternalError("unknown exception");
  }
}
