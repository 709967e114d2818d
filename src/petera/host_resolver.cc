// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
#include "host_resolver.h"

#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>
#include <cstring>
#include <optional>
#include <system_error>
#include <thread>

namespace petera::client {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

struct AddrinfoDeleter {
  void operator()(addrinfo* info) const { freeaddrinfo(info); }
};
using AddrinfoPtr = std::unique_ptr<addrinfo, AddrinfoDeleter>;

std::optional<tcp::endpoint> EndpointOf(const addrinfo& info, uint16_t port) {
  if (info.ai_family == AF_INET && info.ai_addrlen >= sizeof(sockaddr_in)) {
    sockaddr_in in4;
    std::memcpy(&in4, info.ai_addr, sizeof(in4));
    asio::ip::address_v4::bytes_type bytes;
    std::memcpy(bytes.data(), &in4.sin_addr, bytes.size());
    return tcp::endpoint(asio::ip::address_v4(bytes), port);
  }
  if (info.ai_family == AF_INET6 && info.ai_addrlen >= sizeof(sockaddr_in6)) {
    sockaddr_in6 in6;
    std::memcpy(&in6, info.ai_addr, sizeof(in6));
    asio::ip::address_v6::bytes_type bytes;
    std::memcpy(bytes.data(), &in6.sin6_addr, bytes.size());
    return tcp::endpoint(asio::ip::address_v6(bytes, in6.sin6_scope_id), port);
  }
  return std::nullopt;
}

}  // namespace

Result<Endpoints> ResolveWithGetaddrinfo(const std::string& host, uint16_t port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_ADDRCONFIG;
  addrinfo* raw = nullptr;
  int rc = getaddrinfo(host.c_str(), nullptr, &hints, &raw);
  AddrinfoPtr list(raw);
  if (rc != 0) {
    std::string reason = rc == EAI_SYSTEM ? std::generic_category().message(errno)
                                          : gai_strerror(rc);
    return Error(ErrorCategory::kNetwork, "cannot resolve " + host + ": " + reason);
  }
  Endpoints endpoints;
  for (const addrinfo* info = list.get(); info != nullptr; info = info->ai_next) {
    auto endpoint = EndpointOf(*info, port);
    if (endpoint) endpoints.push_back(*endpoint);
  }
  if (endpoints.empty()) {
    return Error(ErrorCategory::kNetwork, "cannot resolve " + host + ": no IP address");
  }
  return endpoints;
}

Result<std::shared_ptr<HostLookup>> HostLookup::Start(asio::io_context& io,
                                                      const ResolveFunction& resolve,
                                                      std::string host, uint16_t port,
                                                      Handler done) {
  std::shared_ptr<HostLookup> lookup(new HostLookup(io, std::move(done)));
  try {
    // The thread owns copies of everything it reads, and the lookup; never
    // the connection, whose last reference must not drop in that thread.
    std::thread([lookup, resolve, host = std::move(host), port] {
      lookup->Work(resolve, host, port);
    }).detach();
  } catch (const std::system_error& e) {
    lookup->done_ = nullptr;
    return Error(ErrorCategory::kInternal,
                 std::string("cannot start a name lookup: ") + e.what());
  }
  return lookup;
}

void HostLookup::Work(const ResolveFunction& resolve, const std::string& host, uint16_t port) {
  Result<Endpoints> result = Error(ErrorCategory::kInternal, "name lookup failed");
  try {
    result = resolve(host, port);
  } catch (const std::exception& e) {
    result = Error(ErrorCategory::kInternal, std::string("name lookup failed: ") + e.what());
  }
  std::lock_guard lock(mutex_);
  if (io_ == nullptr) return;
  try {
    asio::post(*io_, [self = shared_from_this(), result = std::move(result)]() mutable {
      self->Deliver(std::move(result));
    });
  } catch (const std::exception&) {
    // Out of memory while posting: the connection's deadline reports it.
  }
}

void HostLookup::Deliver(Result<Endpoints> result) {
  {
    std::lock_guard lock(mutex_);
    if (io_ == nullptr) return;
    io_ = nullptr;
  }
  Handler done = std::move(done_);
  done_ = nullptr;
  if (done) done(std::move(result));
}

void HostLookup::Abandon() {
  {
    std::lock_guard lock(mutex_);
    io_ = nullptr;
  }
  done_ = nullptr;
}

}  // namespace petera::client
