#pragma once
// Where Klaxon allows plaintext to a peer only on the same machine (a local Twilio sandbox, a
// client talking to a local server), this decides what "the same machine" is.

#include <string_view>

namespace klaxon::config {

// True for "localhost" (RFC 6761, any case) or an IPv4 (127.0.0.0/8) or IPv6 (::1) loopback
// literal, given without brackets.
bool IsLoopbackHost(std::string_view host);

}  // namespace klaxon::config
