// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
//
// TlsStream: an asynchronous TLS stream for Beast made of an OpenSSL SSL
// object reading and writing a non-blocking TCP socket directly.
//
// Why not boost::asio::ssl::stream: it keeps two 17 KiB buffers per
// connection plus a 2x17 KiB BIO pair, whether the connection is busy or
// idle. Here the SSL object owns its record buffers and, with
// SSL_MODE_RELEASE_BUFFERS, frees them while the connection is idle, which
// keeps an idle keep-alive connection at a few KiB.
//
// Every operation runs one OpenSSL call and, when OpenSSL wants the socket
// readable or writable, waits for that with socket.async_wait() and tries
// again. Operations complete through the socket's executor (its worker's
// io_context, run by one thread) and never in the initiating function. cancel() makes the
// pending operation, and any started before the next reset_cancel(), fail
// with operation_aborted: that is how the session's timeouts work.
//
// Only one read or one write is in flight at a time (HTTP/1.1 request then
// response), which is what the session does.
#ifndef PETERA_PETERAD_TLS_STREAM_H_
#define PETERA_PETERAD_TLS_STREAM_H_

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <boost/asio/async_result.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/compose.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/system/error_code.hpp>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "petera/ossl.h"

namespace petera::peterad {

namespace net = boost::asio;
using tcp = net::ip::tcp;
using error_code = boost::system::error_code;

using SslPtr = OsslPtr<SSL, SSL_free>;

// The error_code for an SSL_get_error() result (clears the error queue).
error_code TlsErrorCode(int ssl_error, int ret);

class TlsStream {
 public:
  using executor_type = tcp::socket::executor_type;

  // `socket` must be connected; `ssl` is fresh from SSL_new. Sets the socket
  // non-blocking and attaches it to the SSL object in server mode.
  static Result<TlsStream> Create(tcp::socket socket, SslPtr ssl);

  executor_type get_executor() { return socket_.get_executor(); }
  tcp::socket& socket() { return socket_; }
  SSL* ssl() const { return ssl_.get(); }

  void cancel() {
    cancelled_ = true;
    error_code ignored;
    socket_.cancel(ignored);
  }
  void reset_cancel() { cancelled_ = false; }
  bool cancelled() const { return cancelled_; }

  void close() {
    error_code ignored;
    socket_.close(ignored);
  }

  template <class Token>
  auto async_handshake(Token&& token) {
    return net::async_compose<Token, void(error_code)>(
        Op<HandshakeStep, false>{*this, {}}, token, socket_);
  }

  // Sends close_notify; does not wait for the peer's.
  template <class Token>
  auto async_shutdown(Token&& token) {
    return net::async_compose<Token, void(error_code)>(
        Op<ShutdownStep, false>{*this, {}}, token, socket_);
  }

  template <class MutableBufferSequence, class Token>
  auto async_read_some(const MutableBufferSequence& buffers, Token&& token) {
    return net::async_compose<Token, void(error_code, std::size_t)>(
        Op<ReadStep, true>{*this, ReadStep{FirstBuffer(buffers)}}, token, socket_);
  }

  template <class ConstBufferSequence, class Token>
  auto async_write_some(const ConstBufferSequence& buffers, Token&& token) {
    return net::async_compose<Token, void(error_code, std::size_t)>(
        Op<WriteStep, true>{*this, WriteStep::Gather(buffers)}, token, socket_);
  }

  // Whether application data has arrived: reads what the socket holds
  // without consuming any of it. When false, `ec` says why: would_block
  // (nothing yet, also after a record without application data such as a
  // key update, or a stale readiness; OpenSSL has processed every whole
  // record it holds, so wait on the socket itself), try_again (OpenSSL must
  // write first: wait until the socket is writable and ask again), else the
  // connection's error.
  bool has_data(error_code& ec) {
    ERR_clear_error();
    unsigned char byte = 0;
    std::size_t n = 0;
    int r = SSL_peek_ex(ssl_.get(), &byte, 1, &n);
    if (r == 1) {
      ec = {};
      return true;
    }
    int err = SSL_get_error(ssl_.get(), r);
    if (err == SSL_ERROR_WANT_READ) {
      ERR_clear_error();
      ec = net::error::would_block;
    } else if (err == SSL_ERROR_WANT_WRITE) {
      ERR_clear_error();
      ec = net::error::try_again;
    } else {
      ec = TlsErrorCode(err, r);
    }
    return false;
  }

  // Completes when a request may be readable: TLS data is already buffered
  // or the socket is readable. Allocates nothing while waiting. Buffered
  // data may be part of a record only: after has_data() said would_block,
  // wait on the socket instead, or this completes again at once.
  template <class Token>
  auto async_wait_readable(Token&& token) {
    return net::async_compose<Token, void(error_code)>(WaitReadableOp{*this, false}, token,
                                                       socket_);
  }

 private:
  TlsStream(tcp::socket socket, SslPtr ssl) : socket_(std::move(socket)), ssl_(std::move(ssl)) {}

  // Each step makes one OpenSSL call: 1 on success, else its return value
  // for SSL_get_error.
  struct HandshakeStep {
    int operator()(SSL* ssl, std::size_t& n) const {
      n = 0;
      return SSL_do_handshake(ssl);
    }
  };
  struct ShutdownStep {
    int operator()(SSL* ssl, std::size_t& n) const {
      n = 0;
      int r = SSL_shutdown(ssl);
      return r >= 0 ? 1 : r;  // 0: sent ours, not waiting for theirs
    }
  };
  struct ReadStep {
    net::mutable_buffer buffer;
    int operator()(SSL* ssl, std::size_t& n) const {
      n = 0;
      if (buffer.size() == 0) return 1;
      return SSL_read_ex(ssl, buffer.data(), buffer.size(), &n);
    }
  };
  struct WriteStep {
    // Gathers the sequence into one buffer (up to one TLS record) so that a
    // response goes out in as few records as possible, and so that a retry
    // after WANT_WRITE passes OpenSSL the same bytes.
    std::vector<std::uint8_t> data;
    template <class ConstBufferSequence>
    static WriteStep Gather(const ConstBufferSequence& buffers) {
      WriteStep step;
      std::size_t total = net::buffer_size(buffers);
      step.data.resize(total < kMaxRecord ? total : kMaxRecord);
      net::buffer_copy(net::buffer(step.data), buffers);
      return step;
    }
    int operator()(SSL* ssl, std::size_t& n) const {
      n = 0;
      if (data.empty()) return 1;
      return SSL_write_ex(ssl, data.data(), data.size(), &n);
    }
  };
  static constexpr std::size_t kMaxRecord = 16384;

  template <class MutableBufferSequence>
  static net::mutable_buffer FirstBuffer(const MutableBufferSequence& buffers) {
    for (auto it = net::buffer_sequence_begin(buffers); it != net::buffer_sequence_end(buffers);
         ++it) {
      net::mutable_buffer b(*it);
      if (b.size() != 0) return b;
    }
    return {};
  }

  template <class Step, bool kWithSize>
  struct Op {
    TlsStream& stream;
    Step step;
    bool started = false;

    template <class Self>
    void operator()(Self& self, error_code ec = {}) {
      if (!started) {
        started = true;  // never complete inside the initiating function
        net::post(stream.socket_.get_executor(), std::move(self));
        return;
      }
      if (!ec && stream.cancelled_) ec = net::error::operation_aborted;
      if (ec) return Complete(self, ec, 0);
      ERR_clear_error();
      std::size_t n = 0;
      int r = step(stream.ssl_.get(), n);
      if (r == 1) return Complete(self, {}, n);
      int err = SSL_get_error(stream.ssl_.get(), r);
      if (err == SSL_ERROR_WANT_READ) {
        return stream.socket_.async_wait(tcp::socket::wait_read, std::move(self));
      }
      if (err == SSL_ERROR_WANT_WRITE) {
        return stream.socket_.async_wait(tcp::socket::wait_write, std::move(self));
      }
      Complete(self, TlsErrorCode(err, r), 0);
    }

    template <class Self>
    static void Complete(Self& self, error_code ec, std::size_t n) {
      if constexpr (kWithSize) {
        self.complete(ec, n);
      } else {
        self.complete(ec);
      }
    }
  };

  struct WaitReadableOp {
    TlsStream& stream;
    bool started;

    template <class Self>
    void operator()(Self& self, error_code ec = {}) {
      if (!started) {
        started = true;
        if (SSL_has_pending(stream.ssl_.get()) == 1 && !stream.cancelled_) {
          net::post(stream.socket_.get_executor(), std::move(self));
          return;
        }
        return stream.socket_.async_wait(tcp::socket::wait_read, std::move(self));
      }
      if (!ec && stream.cancelled_) ec = net::error::operation_aborted;
      self.complete(ec);
    }
  };

  tcp::socket socket_;
  SslPtr ssl_;
  bool cancelled_ = false;
};

}  // namespace petera::peterad

#endif  // PETERA_PETERAD_TLS_STREAM_H_
