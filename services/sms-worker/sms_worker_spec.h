#pragma once
// sms-worker: sends each alert of klaxon.sms.requests as a Twilio Message, keeps the suppression
// list from the opt-outs and opt-ins of klaxon.twilio.events, and acknowledges the alerts whose
// recipients reply with their ACK code.
// The spec is the worker's whole difference from voice-worker (services/delivery/worker_main.h);
// its main runs it, and klaxon-admin check reads its configuration with it.

#include "services/delivery/worker_main.h"

namespace klaxon::sms {

delivery::WorkerSpec SmsWorkerSpec();

}  // namespace klaxon::sms
