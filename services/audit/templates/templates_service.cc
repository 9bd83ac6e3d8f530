#include "services/audit/templates/templates_service.h"

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/prototime/prototime.h"
#include "services/audit/blocking_call.h"
#include "services/audit/templates/template_rendering.h"
#include "services/audit/templates/template_validation.h"

namespace klaxon::audit {

klaxon::alerts::v1::Template ToProto(const MessageTemplate& stored) {
  klaxon::alerts::v1::Template out;
  out.set_name(stored.name);
  out.set_locale(stored.locale);
  out.set_version(stored.version);
  out.set_sms_text(stored.sms_text);
  out.set_voice_script(stored.voice_script);
  out.set_voice_name(stored.voice_name);
  out.set_language(stored.language);
  out.set_default_locale(stored.default_locale);
  prototime::SetTimestamp(stored.created_at, out.mutable_created_at());
  return out;
}

namespace {

// What CreateTemplate asks to store; version and created_at are audit's to set.
MessageTemplate FromProto(const klaxon::alerts::v1::Template& created) {
  return {.name = created.name(),
          .locale = created.locale(),
          .sms_text = created.sms_text(),
          .voice_script = created.voice_script(),
          .voice_name = created.voice_name(),
          .language = created.language(),
          .default_locale = created.default_locale()};
}

// A reference's name and locale are checked before they reach the store or an error message.
absl::Status CheckReference(const klaxon::alerts::v1::TemplateRef& reference) {
  if (absl::Status name = CheckTemplateName("template.name", reference.name()); !name.ok()) {
    return name;
  }
  if (reference.locale().empty()) return absl::OkStatus();
  return CheckLocale("template.locale", reference.locale());
}

}  // namespace

TemplatesService::TemplatesService(const auth::CallerAuthenticator& api_keys,
                                   TemplateStore& store, const log::Logger& logger,
                                   concurrency::BlockingExecutorOptions executor)
    : api_keys_(api_keys), store_(store), logger_(logger), executor_(executor) {}

grpc::ServerUnaryReactor* TemplatesService::CreateTemplate(
    grpc::CallbackServerContext* context, const klaxon::alerts::v1::CreateTemplateRequest* request,
    klaxon::alerts::v1::Template* response) {
  return ServeBlocking(
      api_keys_, executor_, context,
      [this, request, response](const std::string& caller) -> absl::Status {
        const MessageTemplate created = FromProto(request->template_());
        if (absl::Status valid = ValidateTemplate(created); !valid.ok()) return valid;
        absl::StatusOr<MessageTemplate> stored = store_.Create(caller, created);
        if (!stored.ok()) return stored.status();
        logger_.Info("template_created", {{"caller", caller},
                                          {"name", stored->name},
                                          {"locale", stored->locale},
                                          {"version", stored->version},
                                          {"default_locale", stored->default_locale}});
        *response = ToProto(*stored);
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* TemplatesService::ListTemplates(
    grpc::CallbackServerContext* context, const klaxon::alerts::v1::ListTemplatesRequest* request,
    klaxon::alerts::v1::ListTemplatesResponse* response) {
  return ServeBlocking(
      api_keys_, executor_, context,
      [this, request, response](const std::string& caller) -> absl::Status {
        if (!request->name().empty()) {
          if (absl::Status name = CheckTemplateName("name", request->name()); !name.ok()) {
            return name;
          }
        }
        absl::StatusOr<std::vector<MessageTemplate>> listed = store_.List(caller, request->name());
        if (!listed.ok()) return listed.status();
        for (const MessageTemplate& stored : *listed) *response->add_templates() = ToProto(stored);
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* TemplatesService::RenderTemplate(
    grpc::CallbackServerContext* context, const klaxon::alerts::v1::RenderTemplateRequest* request,
    klaxon::alerts::v1::RenderedTemplate* response) {
  return ServeBlocking(
      api_keys_, executor_, context,
      [this, request, response](const std::string& caller) -> absl::Status {
        const klaxon::alerts::v1::TemplateRef& reference = request->template_();
        if (absl::Status valid = CheckReference(reference); !valid.ok()) return valid;
        absl::StatusOr<std::optional<MessageTemplate>> stored =
            store_.Latest(caller, reference.name(), reference.locale());
        if (!stored.ok()) return stored.status();
        if (!stored->has_value()) {
          // Another caller's template is reported exactly like a missing one.
          return absl::NotFoundError(
              absl::StrCat("template.name: no template named \"", reference.name(), "\""));
        }
        const MessageTemplate& found = **stored;
        TemplateParameters parameters;
        for (const auto& parameter : reference.parameters()) {
          parameters.emplace(parameter.first, parameter.second);
        }
        absl::StatusOr<RenderedText> rendered = Render(found, request->channel(), parameters);
        if (!rendered.ok()) return rendered.status();
        response->set_name(found.name);
        response->set_locale(found.locale);
        response->set_version(found.version);
        response->set_text(std::move(rendered->text));
        response->set_segments(rendered->segments);
        // How a call reads the text: nothing an SMS uses.
        if (request->channel() == klaxon::types::v1::CHANNEL_VOICE) {
          response->set_voice_name(found.voice_name);
          response->set_language(found.language);
        }
        return absl::OkStatus();
      });
}

}  // namespace klaxon::audit
