// StartServer's servers answer gRPC server reflection, which is what lets grpcurl list and call
// them without the .proto files. The client below is a hand-written ServerReflection stub: Debian
// ships the reflection service's compiled code inside libgrpc++_reflection but not its headers,
// so messages are built from the descriptors that library registers in the generated pool.

#include <cstdlib>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/grpcutil/grpcutil.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/descriptor.pb.h"
#include "google/protobuf/message.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/impl/codegen/client_context.h"
#include "grpcpp/impl/codegen/rpc_method.h"
#include "grpcpp/impl/codegen/sync_stream.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/support/byte_buffer.h"
#include "gtest/gtest.h"
#include "klaxon/alerts/v1/alerts.grpc.pb.h"

namespace klaxon::grpcutil {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::DescriptorPool;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::MessageFactory;

constexpr char kReflectionMethod[] =
    "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo";

const Descriptor& FindMessage(const std::string& name) {
  const Descriptor* descriptor = DescriptorPool::generated_pool()->FindMessageTypeByName(name);
  if (descriptor == nullptr) {
    ADD_FAILURE() << name << " is not in the generated pool (is grpc++_reflection linked?)";
    std::abort();
  }
  return *descriptor;
}

std::unique_ptr<Message> NewMessage(const std::string& name) {
  return std::unique_ptr<Message>(
      MessageFactory::generated_factory()->GetPrototype(&FindMessage(name))->New());
}

grpc::ByteBuffer ToBuffer(const Message& message) {
  const grpc::Slice slice(message.SerializeAsString());
  return grpc::ByteBuffer(&slice, 1);
}

bool FromBuffer(const grpc::ByteBuffer& buffer, Message& message) {
  std::vector<grpc::Slice> slices;
  if (!buffer.Dump(&slices).ok()) return false;
  std::string bytes;
  for (const grpc::Slice& slice : slices) {
    bytes.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
  }
  return message.ParseFromString(bytes);
}

// One ServerReflectionInfo stream: each Ask() sends a request with one string field set
// (list_services, file_containing_symbol, ...) and reads its response.
class ReflectionClient {
 public:
  explicit ReflectionClient(int port)
      : channel_(grpc::CreateChannel(absl::StrCat("127.0.0.1:", port),
                                     grpc::InsecureChannelCredentials())),
        method_(kReflectionMethod, grpc::internal::RpcMethod::BIDI_STREAMING, channel_) {
    context_.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    stream_.reset(grpc::internal::ClientReaderWriterFactory<grpc::ByteBuffer, grpc::ByteBuffer>::
                      Create(channel_.get(), method_, &context_));
  }

  ~ReflectionClient() {
    stream_->WritesDone();
    EXPECT_TRUE(stream_->Finish().ok());
  }

  std::unique_ptr<Message> Ask(const std::string& field, const std::string& value) {
    std::unique_ptr<Message> request =
        NewMessage("grpc.reflection.v1alpha.ServerReflectionRequest");
    const FieldDescriptor* set = request->GetDescriptor()->FindFieldByName(field);
    EXPECT_NE(set, nullptr) << field;
    if (set == nullptr) return nullptr;
    request->GetReflection()->SetString(request.get(), set, value);
    std::unique_ptr<Message> response =
        NewMessage("grpc.reflection.v1alpha.ServerReflectionResponse");
    grpc::ByteBuffer buffer;
    if (!stream_->Write(ToBuffer(*request)) || !stream_->Read(&buffer) ||
        !FromBuffer(buffer, *response)) {
      ADD_FAILURE() << "the reflection stream failed";
      return nullptr;
    }
    return response;
  }

 private:
  std::shared_ptr<grpc::Channel> channel_;
  grpc::internal::RpcMethod method_;
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReaderWriter<grpc::ByteBuffer, grpc::ByteBuffer>> stream_;
};

const Message& SubMessage(const Message& message, const std::string& field) {
  const FieldDescriptor* descriptor = message.GetDescriptor()->FindFieldByName(field);
  EXPECT_NE(descriptor, nullptr) << field;
  return message.GetReflection()->GetMessage(message, descriptor);
}

std::set<std::string> ServiceNames(const Message& response) {
  const Message& list = SubMessage(response, "list_services_response");
  const FieldDescriptor* services = list.GetDescriptor()->FindFieldByName("service");
  std::set<std::string> names;
  for (int i = 0; i < list.GetReflection()->FieldSize(list, services); ++i) {
    const Message& service = list.GetReflection()->GetRepeatedMessage(list, services, i);
    names.insert(service.GetReflection()->GetString(
        service, service.GetDescriptor()->FindFieldByName("name")));
  }
  return names;
}

class ReflectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<StartedServer> started =
        StartServer({.address = "127.0.0.1:0",
                     .services = {intake_},
                     .credentials = grpc::InsecureServerCredentials()});
    ASSERT_TRUE(started.ok()) << started.status();
    started_ = *std::move(started);
  }
  void TearDown() override {
    if (started_.server != nullptr) started_.server->Shutdown();
  }

  // Generated code with every method unimplemented: reflection only needs its descriptors.
  klaxon::alerts::v1::AlertIntake::Service intake_;
  StartedServer started_;
};

TEST_F(ReflectionTest, ListsRegisteredHealthAndReflectionServices) {
  ReflectionClient client(started_.port);
  const std::unique_ptr<Message> response = client.Ask("list_services", "*");
  ASSERT_NE(response, nullptr);
  const std::set<std::string> names = ServiceNames(*response);
  EXPECT_TRUE(names.contains("klaxon.alerts.v1.AlertIntake"));
  EXPECT_TRUE(names.contains("grpc.health.v1.Health"));
  EXPECT_TRUE(names.contains("grpc.reflection.v1alpha.ServerReflection"));
}

TEST_F(ReflectionTest, DescribesAServiceWithoutTheProtoFiles) {
  ReflectionClient client(started_.port);
  const std::unique_ptr<Message> response =
      client.Ask("file_containing_symbol", "klaxon.alerts.v1.AlertIntake");
  ASSERT_NE(response, nullptr);
  const Message& files = SubMessage(*response, "file_descriptor_response");
  const FieldDescriptor* protos = files.GetDescriptor()->FindFieldByName("file_descriptor_proto");
  ASSERT_GE(files.GetReflection()->FieldSize(files, protos), 1);
  google::protobuf::FileDescriptorProto file;
  ASSERT_TRUE(file.ParseFromString(files.GetReflection()->GetRepeatedString(files, protos, 0)));
  EXPECT_EQ(file.name(), "klaxon/alerts/v1/alerts.proto");
  bool has_send_alert = false;
  for (const auto& service : file.service()) {
    if (service.name() != "AlertIntake") continue;
    for (const auto& method : service.method()) has_send_alert |= method.name() == "SendAlert";
  }
  EXPECT_TRUE(has_send_alert);
}

}  // namespace
}  // namespace klaxon::grpcutil
