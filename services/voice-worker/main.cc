// voice-worker: see voice_worker_spec.h.
#include "services/delivery/worker_main.h"
#include "services/voice-worker/voice_worker_spec.h"

int main() { return klaxon::delivery::RunWorker(klaxon::voice::VoiceWorkerSpec()); }
