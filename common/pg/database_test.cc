#include "common/pg/database.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "gtest/gtest.h"

namespace klaxon::pg {
namespace {

// A loopback port nobody listens on: bound (so no one else gets it) but never listened on, so a
// connection attempt is refused at once.
class RefusingPort {
 public:
  RefusingPort() : fd_(socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = 0;
    // The sockets API takes a sockaddr*; sockaddr_in is layout-compatible by design.
    EXPECT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
    socklen_t length = sizeof(address);
    EXPECT_EQ(getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length), 0);
    port_ = ntohs(address.sin_port);
  }
  ~RefusingPort() { close(fd_); }
  int port() const { return port_; }

 private:
  int fd_;
  int port_ = 0;
};

TEST(DatabaseTest, ConnectToDownServerIsUnavailable) {
  RefusingPort port;
  absl::StatusOr<std::unique_ptr<Database>> db = Database::Connect(
      "postgresql://postgres@127.0.0.1:" + std::to_string(port.port()) + "/postgres");
  EXPECT_EQ(db.status().code(), absl::StatusCode::kUnavailable) << db.status();
}

TEST(DatabaseTest, ConnectWithMalformedUrlIsInvalidArgument) {
  absl::StatusOr<std::unique_ptr<Database>> db = Database::Connect("postgresql://h/d?nope=1");
  EXPECT_EQ(db.status().code(), absl::StatusCode::kInvalidArgument) << db.status();
}

TEST(DatabaseTest, ConnectWithZeroConnectionsIsInvalidArgument) {
  absl::StatusOr<std::unique_ptr<Database>> db =
      Database::Connect("postgresql://127.0.0.1/d", {.max_connections = 0});
  EXPECT_EQ(db.status().code(), absl::StatusCode::kInvalidArgument) << db.status();
}

}  // namespace
}  // namespace klaxon::pg
