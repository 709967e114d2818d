// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
#include "peterad/tls_stream.h"

#include <cerrno>

namespace petera::peterad {

Result<TlsStream> TlsStream::Create(tcp::socket socket, SslPtr ssl) {
  error_code ec;
  socket.non_blocking(true, ec);  // OpenSSL must never block an I/O thread
  if (ec) return Error(ErrorCategory::kInternal, "cannot make the socket non-blocking: " + ec.message());
  if (SSL_set_fd(ssl.get(), socket.native_handle()) != 1) {
    return SslError("cannot attach the socket to TLS");
  }
  SSL_set_accept_state(ssl.get());
  return TlsStream(std::move(socket), std::move(ssl));
}

error_code TlsErrorCode(int ssl_error, int ret) {
  unsigned long first = ERR_peek_error();
  if (ssl_error == SSL_ERROR_ZERO_RETURN) {
    ERR_clear_error();
    return net::error::eof;  // the peer sent close_notify
  }
  if (ssl_error == SSL_ERROR_SYSCALL) {
    int saved = errno;
    ERR_clear_error();
    if (first == 0 && (ret == 0 || saved == 0)) return net::ssl::error::stream_truncated;
    return error_code(saved, boost::system::system_category());
  }
  ERR_clear_error();
  if (ERR_GET_REASON(first) == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
    return net::ssl::error::stream_truncated;
  }
  if (first == 0) return net::error::fault;
  return error_code(static_cast<int>(first), net::error::get_ssl_category());
}

}  // namespace petera::peterad
