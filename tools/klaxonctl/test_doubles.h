// Test doubles for klaxonctl's tests: gMock stubs of the generated StubInterfaces (the build does
// not generate gRPC's *_mock.grpc.pb.h) and a clock whose sleeps only move its own time forward.
#pragma once

#include <vector>

#include "absl/time/time.h"
#include "common/timing/fake_clock.h"
#include "gmock/gmock.h"
#include "klaxon/alerts/v1/alerts.grpc.pb.h"

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
