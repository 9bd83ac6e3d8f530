#pragma once
// Twilio's request signature (X-Twilio-Signature): the computation shared by the webhook
// validator in ingress, klaxonctl's sign/verify commands and the sandbox that signs its status
// callbacks. The rules are those of ../shared/twilio/TWILIO.md: this unit signs one URL and one
// parameter list; webhook_signature.h verifies a received request with its URL variants.

#include <string>
#include <string_view>

#include "common/http/form.h"

namespace klaxon::twilio {

// Decoded form parameters in the order received. Keys may repeat.
using FormParams = http::FormParams;

// The bytes Twilio signs: `url` exactly as given, then key+value for every parameter with keys
// sorted by byte value; a repeated key contributes one key+value per distinct value, values
// sorted and duplicates dropped; empty values count.
std::string CanonicalSignedData(std::string_view url, const FormParams& params);

// Returns base64(HMAC-SHA1(auth_token, CanonicalSignedData(url, params))), 28 characters.
std::string ComputeSignature(std::string_view auth_token, std::string_view url,
                             const FormParams& params);

// Compares a computed signature with a received one in time independent of where they differ.
bool SignatureMatches(std::string_view expected, std::string_view received);

}  // namespace klaxon::twilio
