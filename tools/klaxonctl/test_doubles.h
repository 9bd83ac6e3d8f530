// Test doubles for klaxonctl's tests: gMock stubs of the generated StubInterfaces (the build does
// not generate gRPC's *_mock.grpc.pb.h) and a clock whose sleeps only move its own time forward.
#pragma once

#include <vector>

#include "absl/time/time.h"
#include "common/timing/fake_clock.h"
#include "gmock/gmock.h"
#include "klaxon/alerts/v1/alerts.grpc.pb.h"
#include "klaxon/alerts/v1/inbound_messages.grpc.pb.h"
#include "klaxon/verify/v1/verify.grpc.pb.h"

namespace klaxon::ctl {

class MockIntakeStub : public alerts::v1::AlertIntake::StubInterface {
 public:
  MOCK_METHOD(grpc::Status, SendAlert,
              (grpc::ClientContext*, const alerts::v1::SendAlertRequest&,
               alerts::v1::SendAlertResponse*),
              (override));
  MOCK_METHOD(grpc::ClientAsyncResponseReaderInterface<alerts::v1::SendAlertResponse>*,
              AsyncSendAlertRaw,
              (grpc::ClientContext*, const alerts::v1::SendAlertRequest&, grpc::CompletionQueue*),
              (override));
  MOCK_METHOD(grpc::ClientAsyncResponseReaderInterface<alerts::v1::SendAlertResponse>*,
              PrepareAsyncSendAlertRaw,
              (grpc::ClientContext*, const alerts::v1::SendAlertRequest&, grpc::CompletionQueue*),
              (override));
  MOCK_METHOD(grpc::Status, SendAlerts,
              (grpc::ClientContext*, const alerts::v1::SendAlertsRequest&,
               alerts::v1::SendAlertsResponse*),
              (override));
  MOCK_METHOD(grpc::ClientAsyncResponseReaderInterface<alerts::v1::SendAlertsResponse>*,
              AsyncSendAlertsRaw,
              (grpc::ClientContext*, const alerts::v1::SendAlertsRequest&, grpc::CompletionQueue*),
              (override));
  MOCK_METHOD(grpc::ClientAsyncResponseReaderInterface<alerts::v1::SendAlertsResponse>*,
              PrepareAsyncSendAlertsRaw,
              (grpc::ClientContext*, const alerts::v1::SendAlertsRequest&, grpc::CompletionQueue*),
              (override));
  MOCK_METHOD(grpc::Status, CancelAlert,
              (grpc::ClientContext*, const alerts::v1::CancelAlertRequest&,
               alerts::v1::CancelAlertResponse*),
              (override));
  MOCK_METHOD(grpc::ClientAsyncResponseReaderInterface<alerts::v1::CancelAlertResponse>*,
              AsyncCancelAlertRaw,
              (grpc::ClientContext*, const alerts::v1::CancelAlertRequest&, grpc::CompletionQueue*),
              (override));
  MOCK_METHOD(grpc::ClientAsyncResponseReaderInterface<alerts::v1::CancelAlertResponse>*,
              PrepareAsyncCancelAlertRaw,
              (grpc::ClientContext*, const alerts::v1::CancelAlertRequest&, grpc::CompletionQueue*),
              (override));
  MOCK_METHOD(grpc::Status, AcknowledgeAlert,
              (grpc::ClientContext*, const alerts::v1::AcknowledgeAlertRequest&,
               alerts::v1::AcknowledgeAlertResponse*),
              (override));
  MOCK_METHOD(grpc::ClientAsyncResponseReaderInterface<alerts::v1::AcknowledgeAlertResponse>*,
              AsyncAcknowledgeAlertRaw,
              (grpc::ClientContext*, const alerts::v1::AcknowledgeAlertRequest&,
               grpc::CompletionQueue*),
              (override));
  MOCK_METHOD(grpc::ClientAsyncResponseReaderInterface<alerts::v1::AcknowledgeAlertResponse>*,
              PrepareAsyncAcknowledgeAlertRaw,
              (grpc::ClientContext*, const alerts::v1::AcknowledgeAlertRequest&,
               grpc::CompletionQueue*),
              (override));
};

class MockQueryStub : public alerts::v1::AlertQuery::StubInterface {
 public:
  MOCK_METHOD(grpc::Status, GetAlert,
              (grpc::ClientContext*, const alerts::v1::GetAlertRequest&, alerts::v1::Alert*),
              (override));
  MOCK_METHOD(grpc::ClientAsyncResponseReaderInterface<alerts::v1::Alert>*, AsyncGetAlertRaw,
              (grpc::ClientContext*, const alerts::v1::GetAlertRequest&, grpc::CompletionQueue*),
              (override));
  MOCK_METHOD(grpc::ClientAsyncResponseReaderInterface<alerts::v1::Alert>*, PrepareAsyncGetAlertRaw,
              (grpc::ClientContext*, const alerts::v1::GetAlertRequest&, grpc::CompletionQueue*),
              (override));
  MOCK_METHOD(grpc::Status, ListAlerts,
              (grpc::ClientContext*, const alerts::v1::ListAlertsRequest&,
               alerts::v1::ListAlertsResponse*),
              (override));
  MOCK_METHOD(grpc::ClientAsyncResponseReaderInterface<alerts::v1::ListAlertsResponse>*,
              AsyncListAlertsRaw,
              (grpc::ClientContext*, const alerts::v1::ListAlertsRequest&, grpc::CompletionQueue*),
              (override));
  MOCK_METHOD(grpc::ClientAsyncResponseReaderInterface<alerts::v1::ListAlertsResponse>*,
              PrepareAsyncListAlertsRaw,
              (grpc::ClientContext*, const alerts::v1::ListAlertsRequest&, grpc::CompletionQueue*),
              (override));
  MOCK_METHOD(grpc::ClientReaderInterface<alerts::v1::Alert>*, WatchAlertRaw,
              (grpc::ClientContext*, const alerts::v1::WatchAlertRequest&), (override));
  MOCK_METHOD(grpc::ClientAsyncReaderInterface<alerts::v1::Alert>*, AsyncWatchAlertRaw,
              (grpc::ClientContext*, const alerts::v1::WatchAlertRequest&, grpc::CompletionQueue*,
               void*),
              (override));
  MOCK_METHOD(grpc::ClientAsyncReaderInterface<alerts::v1::Alert>*, PrepareAsyncWatchAlertRaw,
              (grpc::ClientContext*, const alerts::v1::WatchAlertRequest&, grpc::CompletionQueue*),
              (override));
  MOCK_METHOD(grpc::Status, GetAuditTrail,
              (grpc::ClientContext*, const alerts::v1::GetAuditTrailRequest&,
               alerts::v1::AuditTrail*),
              (override));
  MOCK_METHOD(grpc::ClientAsyncResponseReaderInterface<alerts::v1::AuditTrail>*,
              AsyncGetAuditTrailRaw,
              (grpc::ClientContext*, const alerts::v1::GetAuditTrailRequest&,
               grpc::CompletionQueue*),
              (override));
  MOCK_METHOD(grpc::ClientAsyncResponseReaderInterface<alerts::v1::AuditTrail>*,
              PrepareAsyncGetAuditTrailRaw,
              (grpc::ClientContext*, const alerts::v1::GetAuditTrailRequest&,
               grpc::CompletionQueue*),
              (override));
  MOCK_METHOD(grpc::Status, GetDeliveryReport,
              (grpc::ClientContext*, const alerts::v1::GetDeliveryReportRequest&,
               alerts::v1::DeliveryReport*),
              (override));
  MOCK_METHOD(grpc::ClientAsyncResponseReaderInterface<alerts::v1::DeliveryReport>*,
              AsyncGetDeliveryReportRaw,
              (grpc::ClientContext*, const alerts::v1::GetDeliveryReportRequest&,
               grpc::CompletionQueue*),
              (override));
  MOCK_METHOD(grpc::ClientAsyncResponseReaderInterface<alerts::v1::DeliveryReport>*,
              PrepareAsyncGetDeliveryReportRaw,
              (grpc::ClientContext*, const alerts::v1::GetDeliveryReportRequest&,
               grpc::CompletionQueue*),
              (override));
};

// A WatchAlert stream that yields `alerts` and then ends with `status`.
class FakeAlertReader final : public grpc::ClientReaderInterface<alerts::v1::Alert> {
 public:
  FakeAlertReader(std::vector<alerts::v1::Alert> alerts, grpc::Status status)
      : alerts_(std::move(alerts)), status_(std::move(status)) {}

  bool Read(alerts::v1::Alert* alert) override {
    if (next_ == alerts_.size()) return false;
    *alert = alerts_[next_++];
    return true;
  }
  grpc::Status Finish() override { return status_; }
  bool NextMessageSize(uint32_t* size) override {
    *size = next_ < alerts_.size() ? static_cast<uint32_t>(alerts_[next_].ByteSizeLong()) : 0;
    return next_ < alerts_.size();
  }
  void WaitForInitialMetadata() override {}

 private:
  std::vector<alerts::v1::Alert> alerts_;
  grpc::Status status_;
  size_t next_ = 0;
};

class MockDeadLettersStub : public alerts::v1::DeadLetters::StubInterface {
 public:
  MOCK_METHOD(grpc::Status, ListDeadLetters,
              (grpc::ClientContext*, const alerts::v1::ListDeadLettersRequest&,
               alerts::v1::ListDeadLettersResponse*),
              (override));
  MOCK_METHOD(grpc::ClientAsyncResponseReaderInterface<alerts::v1::ListDeadLettersResponse>*,
              AsyncListDeadLettersRaw,
              (grpc::ClientContext*, const alerts::v1::ListDeadLettersRequest&,
               grpc::CompletionQueue*),
              (override));
  MOCK_METHOD(grpc::ClientAsyncResponseReaderInterface<alerts::v1::ListDeadLettersResponse>*,
              PrepareAsyncListDeadLettersRaw,
              (grpc::ClientContext*, const alerts::v1::ListDeadLettersRequest&,
               grpc::CompletionQueue*),
              (override));
  MOCK_METHOD(grpc::Status, GetDeadLetter,
              (grpc::ClientContext*, const alerts::v1::GetDeadLetterRequest&,
               alerts::v1::DeadLetterRecord*),
              (override));
  MOCK_METHOD(grpc::ClientAsyncResponseReaderInterface<alerts::v1::DeadLetterRecord>*,
              AsyncGetDeadLetterRaw,
              (grpc::ClientContext*, const alerts::v1::GetDeadLetterRequest&,
               grpc::CompletionQueue*),
              (override));
  MOCK_METHOD(grpc::ClientAsyncResponseReaderInterface<alerts::v1::DeadLetterRecord>*,
              PrepareAsyncGetDeadLetterRaw,
              (grpc::ClientContext*, const alerts::v1::GetDeadLetterRequest&,
               grpc::CompletionQueue*),
              (override));
  MOCK_METHOD(grpc::Status, ReplayDeadLetter,
              (grpc::ClientContext*, const alerts::v1::ReplayDeadLetterRequest&,
               alerts::v1::ReplayDeadLetterResponse*),
              (override));
  MOCK_METHOD(grpc::ClientAsyncResponseReaderInterface<alerts::v1::ReplayDeadLetterResponse>*,
              AsyncReplayDeadLetterRaw,
              (grpc::ClientContext*, const alerts::v1::ReplayDeadLetterRequest&,
               grpc::CompletionQueue*),
              (override));
  MOCK_METHOD(grpc::ClientAsyncResponseReaderInterface<alerts::v1::ReplayDeadLetterResponse>*,
              PrepareAsyncReplayDeadLetterRaw,
              (grpc::ClientContext*, const alerts::v1::ReplayDeadLetterRequest&,
               grpc::CompletionQueue*),
              (override));
  MOCK_METHOD(grpc::Status, ReplayDeadLetters,
              (grpc::ClientContext*, const alerts::v1::ReplayDeadLettersRequest&,
               alerts::v1::ReplayDeadLettersResponse*),
              (override));
  MOCK_METHOD(grpc::ClientAsyncResponseReaderInterface<alerts::v1::ReplayDeadLettersResponse>*,
              AsyncReplayDeadLettersRaw,
              (grpc::ClientContext*, const alerts::v1::ReplayDeadLettersRequest&,
               grpc::CompletionQueue*),
              (override));
  MOCK_METHOD(grpc::ClientAsyncResponseReaderInterface<alerts::v1::ReplayDeadLettersResponse>*,
              PrepareAsyncReplayDeadLettersRaw,
              (grpc::ClientContext*, const alerts::v1::ReplayDeadLettersRequest&,
               grpc::CompletionQueue*),
              (override));
};

class MockInboundMessagesStub : public alerts::v1::InboundMessages::StubInterface {
 public:
  MOCK_METHOD(grpc::Status, ListInboundMessages,
              (grpc::ClientContext*, const alerts::v1::ListInboundMessagesRequest&,
               alerts::v1::ListInboundMessagesResponse*),
              (override));
  MOCK_METHOD(grpc::ClientAsyncResponseReaderInterface<alerts::v1::ListInboundMessagesResponse>*,
              AsyncListInboundMessagesRaw,
              (grpc::ClientContext*, const alerts::v1::ListInboundMessagesRequest&,
               grpc::CompletionQueue*),
              (override));
  MOCK_METHOD(grpc::ClientAsyncResponseReaderInterface<alerts::v1::ListInboundMessagesResponse>*,
              PrepareAsyncListInboundMessagesRaw,
              (grpc::ClientContext*, const alerts::v1::ListInboundMessagesRequest&,
               grpc::CompletionQueue*),
              (override));
};

class MockVerificationStub : public verify::v1::Verification::StubInterface {
 public:
  MOCK_METHOD(grpc::Status, StartVerification,
              (grpc::ClientContext*, const verify::v1::StartVerificationRequest&,
               verify::v1::StartVerificationResponse*),
              (override));
  MOCK_METHOD(grpc::ClientAsyncResponseReaderInterface<verify::v1::StartVerificationResponse>*,
              AsyncStartVerificationRaw,
              (grpc::ClientContext*, const verify::v1::StartVerificationRequest&,
               grpc::CompletionQueue*),
              (override));
  MOCK_METHOD(grpc::ClientAsyncResponseReaderInterface<verify::v1::StartVerificationResponse>*,
              PrepareAsyncStartVerificationRaw,
              (grpc::ClientContext*, const verify::v1::StartVerificationRequest&,
               grpc::CompletionQueue*),
              (override));
  MOCK_METHOD(grpc::Status, CheckVerification,
              (grpc::ClientContext*, const verify::v1::CheckVerificationRequest&,
               verify::v1::CheckVerificationResponse*),
              (override));
  MOCK_METHOD(grpc::ClientAsyncResponseReaderInterface<verify::v1::CheckVerificationResponse>*,
              AsyncCheckVerificationRaw,
              (grpc::ClientContext*, const verify::v1::CheckVerificationRequest&,
               grpc::CompletionQueue*),
              (override));
  MOCK_METHOD(grpc::ClientAsyncResponseReaderInterface<verify::v1::CheckVerificationResponse>*,
              PrepareAsyncCheckVerificationRaw,
              (grpc::ClientContext*, const verify::v1::CheckVerificationRequest&,
               grpc::CompletionQueue*),
              (override));
  MOCK_METHOD(grpc::Status, CancelVerification,
              (grpc::ClientContext*, const verify::v1::CancelVerificationRequest&,
               verify::v1::CancelVerificationResponse*),
              (override));
  MOCK_METHOD(grpc::ClientAsyncResponseReaderInterface<verify::v1::CancelVerificationResponse>*,
              AsyncCancelVerificationRaw,
              (grpc::ClientContext*, const verify::v1::CancelVerificationRequest&,
               grpc::CompletionQueue*),
              (override));
  MOCK_METHOD(grpc::ClientAsyncResponseReaderInterface<verify::v1::CancelVerificationResponse>*,
              PrepareAsyncCancelVerificationRaw,
              (grpc::ClientContext*, const verify::v1::CancelVerificationRequest&,
               grpc::CompletionQueue*),
              (override));
};

// A GetAlert answer: the alert with `status`, written into the response.
inline auto ReturnAlertWithStatus(types::v1::AlertStatus status) {
  return [status](grpc::ClientContext*, const alerts::v1::GetAlertRequest& request,
                  alerts::v1::Alert* alert) {
    alert->set_alert_id(request.alert_id());
    alert->set_status(status);
    return grpc::Status::OK;
  };
}

}  // namespace klaxon::ctl
