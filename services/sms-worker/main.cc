// sms-worker: see sms_worker_spec.h.
#include "services/delivery/worker_main.h"
#include "services/sms-worker/sms_worker_spec.h"

int main() { return klaxon::delivery::RunWorker(klaxon::sms::SmsWorkerSpec()); }
