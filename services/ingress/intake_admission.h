#pragma once
// Admission control for SendAlert: above capacity, a new alert is refused at once with
// RESOURCE_EXHAUSTED and a retry hint, instead of waiting in a queue until the caller's deadline
// passes (DEADLINE_EXCEEDED after seconds tells a caller nothing, and its retry adds to the pile).
//
// Two signals, each with its own bound:
//  - in flight: SendAlerts this replica is handling at once (Redis, then Kafka's acknowledgement).
//    When Kafka or Redis slows down they pile up here first.
//  - backlog: requests a channel's workers have not taken yet (their consumer group's lag on the
//    channel's request topic), reported by BacklogMonitor. An alert accepted behind a backlog of
//    that size would wait longer than its caller expects; refusing it says so while the caller
//    can still page another way.
// A refusal carries a retry hint (grpcutil::WithRetryPushback) the gRPC face sends as the
// standard grpc-retry-pushback-ms trailer. Nothing is published for a refused alert and its
// idempotency key is not reserved, so the retry is a first try.

#include <array>
#include <atomic>
#include <cstdint>
#include <optional>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "klaxon/types/v1/types.pb.h"
#include "prometheus/counter.h"
#include "prometheus/gauge.h"
#include "prometheus/registry.h"

namespace klaxon::ingress {

struct AdmissionOptions {
  int64_t max_in_flight = 1024;   // SendAlerts handled at once by this replica
  int64_t max_backlog = 100'000;  // per channel: requests its workers have not taken
  absl::Duration retry_after = absl::Seconds(1);  // the hint given with a refusal
};

class IntakeAdmission {
 public:
  // Holds one in-flight slot until it goes.
  class Ticket {
   public:
    Ticket(Ticket&& other) noexcept : admission_(other.admission_) { other.admission_ = nullptr; }
    Ticket& operator=(Ticket&&) = delete;
    Ticket(const Ticket&) = delete;
    Ticket& operator=(const Ticket&) = delete;
    ~Ticket();

   private:
    friend class IntakeAdmission;
    explicit Ticket(IntakeAdmission* admission) : admission_(admission) {}
    IntakeAdmission* admission_;
  };

  // `registry` gets klaxon_intake_in_flight and klaxon_intake_refused_total{reason}.
  IntakeAdmission(AdmissionOptions options, prometheus::Registry& registry);

  // A ticket for one SendAlert on `channel`, or kResourceExhausted naming the bound it would
  // pass, with a retry hint. An urgent alert (kafka::Urgent) is not held to the channel's
  // backlog, which is the normal topic's: it travels on its own topic, read apart from that
  // backlog (docs/adr/0027). Thread-safe.
  absl::StatusOr<Ticket> Admit(types::v1::Channel channel, types::v1::Priority priority);

  // The latest backlog of `channel`'s workers; nullopt when it could not be read (then only the
  // in-flight bound applies: a broken probe must not stop paging).
  void ReportBacklog(types::v1::Channel channel, std::optional<int64_t> messages);

  int64_t in_flight() const { return in_flight_.load(std::memory_order_relaxed); }

 private:
  static constexpr int64_t kUnknownBacklog = -1;

  const AdmissionOptions options_;
  prometheus::Gauge& in_flight_gauge_;
  prometheus::Counter& refused_in_flight_;
  prometheus::Counter& refused_backlog_;
  std::atomic<int64_t> in_flight_{0};
  std::array<std::atomic<int64_t>, 3> backlog_{};  // by types::v1::Channel, kUnknownBacklog unset
};

}  // namespace klaxon::ingress
