#include "tools/klaxon-admin/config_check.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "services/audit/audit_settings.h"
#include "services/delivery/worker_settings.h"
#include "services/ingress/ingress_settings.h"
#include "services/sms-worker/sms_worker_spec.h"
#include "services/voice-worker/voice_worker_spec.h"

namespace klaxon::admin {
namespace {

absl::Status Check(const std::string& service, const config::Environment& environment) {
  // A reader of its own per service, on a copy: no reader scrubs what the next one reads.
  config::Reader reader(environment);
  if (service == "ingress") return ingress::LoadIngressSettings(reader).status();
  if (service == "sms-worker") {
    return delivery::LoadWorkerSettings(reader, sms::SmsWorkerSpec()).status();
  }
  if (service == "voice-worker") {
    return delivery::LoadWorkerSettings(reader, voice::VoiceWorkerSpec()).status();
  }
  if (service == "audit") return audit::LoadAuditSettings(reader).status();
  return absl::InvalidArgumentError(
      absl::StrCat("\"", service, "\" is none of ", absl::StrJoin(CheckableServices(), ", ")));
}

}  // namespace

const std::vector<std::string>& CheckableServices() {
  static const std::vector<std::string> kServices = {"ingress", "sms-worker", "voice-worker",
                                                     "audit"};
  return kServices;
}

std::vector<ServiceCheck> CheckConfiguration(const config::Environment& environment,
                                             const std::vector<std::string>& services) {
  std::vector<ServiceCheck> checks;
  for (const std::string& service : services.empty() ? CheckableServices() : services) {
    checks.push_back({.service = service, .status = Check(service, environment)});
  }
  return checks;
}

}  // namespace klaxon::admin
