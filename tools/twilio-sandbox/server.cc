#include "tools/twilio-sandbox/server.h"

#include <pistache/endpoint.h>
#include <pistache/http.h>

#include <chrono>
#include <condition_variable>
#include <exception>
#include <functional>
#include <mutex>
#include <ostream>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace klaxon::sandbox {

struct SandboxServer::State {
  std::mutex mutex;
  std::condition_variable released;
  bool stopping = false;
};

namespace {

bool IsLoopback(const std::string& host) {
  return absl::StartsWith(host, "127.") || host == "::1" || absl::StartsWith(host, "::ffff:127.");
}

// Pistache 0.0.5 does not serialise raw response headers, only typed ones; this typed header
// carries any name and value.
class NamedHeader : public Pistache::Http::Header::Header {
 public:
  NamedHeader(std::string name, std::string value)
      : name_(std::move(name)), value_(std::move(value)) {}
  const char* name() const override { return name_.c_str(); }
  void write(std::ostream& stream) const override { stream << value_; }
  uint64_t hash() const override { return std::hash<std::string>{}(name_); }

 private:
  std::string name_;
  std::string value_;
};

class Handler : public Pistache::Http::Handler {
 public:
  HTTP_PROTOTYPE(Handler)

  Handler(TwilioSandbox* sandbox, std::shared_ptr<SandboxServer::State> state)
      : sandbox_(sandbox), state_(std::move(state)) {}

  void onRequest(const Pistache::Http::Request& request,
                 Pistache::Http::ResponseWriter writer) override {
    SandboxResponse response;
    try {
      SandboxRequest decoded;
      decoded.method = Pistache::Http::methodString(request.method());
      decoded.path = request.resource();
      decoded.query = request.query().as_str();
      if (!decoded.query.empty() && decoded.query.front() == '?') decoded.query.erase(0, 1);
      if (auto authorization = request.headers().tryGet<Pistache::Http::Header::Authorization>()) {
        decoded.authorization = authorization->value();
      }
      decoded.body = request.body();
      decoded.from_loopback = IsLoopback(request.address().host());
      response = sandbox_->Handle(decoded);
    } catch (const std::exception&) {
      response.status = 500;
      response.body = absl::StrCat(R"({"code":20500,"message":"Internal Server Error",)",
                                   R"("more_info":"https://www.twilio.com/docs/errors/20500",)",
                                   R"("status":500})");
      response.delay = absl::ZeroDuration();
    }
    Hold(response.delay);
    // Its place is free before the answer can reach the client, which may then send another.
    response.in_flight.reset();
    try {
      for (const auto& [name, value] : response.headers) {
        writer.headers().add(std::make_shared<NamedHeader>(name, value));
      }
      if (!response.body.empty()) {
        writer.headers().add<Pistache::Http::Header::ContentType>(MIME(Application, Json));
      }
      writer.send(static_cast<Pistache::Http::Code>(response.status), response.body);
    } catch (const std::exception&) {
      // The client went away while the answer was held; nothing is left to tell it.
    }
  }

 private:
  void Hold(absl::Duration delay) {
    if (delay <= absl::ZeroDuration()) return;
    const auto deadline = std::chrono::steady_clock::now() + absl::ToChronoNanoseconds(delay);
    std::unique_lock<std::mutex> lock(state_->mutex);
    state_->released.wait_until(lock, deadline, [this] { return state_->stopping; });
  }

  TwilioSandbox* sandbox_;
  std::shared_ptr<SandboxServer::State> state_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<SandboxServer>> SandboxServer::Start(SandboxServerOptions options,
                                                                    TwilioSandbox& sandbox) {
  if (options.threads < 1) return absl::InvalidArgumentError("threads must be at least 1");
  auto state = std::make_shared<State>();
  try {
    const Pistache::Address address(options.host, Pistache::Port(options.port));
    auto endpoint = std::make_unique<Pistache::Http::Endpoint>(address);
    endpoint->init(Pistache::Http::Endpoint::options()
                       .threads(options.threads)
                       .flags(Pistache::Tcp::Options::ReuseAddr)
                       .maxRequestSize(1 << 20));
    endpoint->setHandler(Pistache::Http::make_handler<Handler>(&sandbox, state));
    endpoint->serveThreaded();
    const uint16_t port = static_cast<uint16_t>(endpoint->getPort());
    return std::unique_ptr<SandboxServer>(
        new SandboxServer(std::move(state), std::move(endpoint), port));
  } catch (const std::exception& error) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", options.host, ":", options.port, ": ", error.what()));
  }
}

SandboxServer::SandboxServer(std::shared_ptr<State> state,
                             std::unique_ptr<Pistache::Http::Endpoint> endpoint, uint16_t port)
    : state_(std::move(state)), endpoint_(std::move(endpoint)), port_(port) {}

SandboxServer::~SandboxServer() { Shutdown(); }

void SandboxServer::Shutdown() {
  {
    std::lock_guard<std::mutex> lock(state_->mutex);
    if (state_->stopping) return;
    state_->stopping = true;
  }
  // Held answers first, so shutdown() does not wait for a hang fault to run out.
  state_->released.notify_all();
  try {
    endpoint_->shutdown();
  } catch (const std::exception&) {
    // Shutting down is best effort; the endpoint is destroyed below either way.
  }
  // Pistache closes the listening socket only when the endpoint is destroyed; until then the
  // kernel would keep accepting connections that nobody answers.
  endpoint_.reset();
}

}  // namespace klaxon::sandbox
