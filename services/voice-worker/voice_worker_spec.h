#pragma once
// voice-worker: places a Twilio Call that reads out each alert of klaxon.voice.requests, and
// escalates voice alerts from the call statuses, key presses and replies of klaxon.twilio.events.
// The spec is the worker's whole difference from sms-worker (services/delivery/worker_main.h); its
// main runs it, and klaxon-admin check reads its configuration with it.

#include "services/delivery/worker_main.h"

namespace klaxon::voice {

delivery::WorkerSpec VoiceWorkerSpec();

}  // namespace klaxon::voice
