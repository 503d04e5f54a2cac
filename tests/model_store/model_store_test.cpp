// The on-device model store: adding from a file and from an in-process HTTP server
// (full, resumed, Range ignored, 404, connection dropped), verification, removal.
#include "model_store/model_store.h"

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>
#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include "core/error.h"
#include "model_store/download.h"
#include "model_store/sha256.h"
#include "support/test_paths.h"

namespace tandem::model_store {
namespace {

namespace fs = std::filesystem;

std::string model_path() { return test::shared_path("models/stories260K.gguf"); }

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

// The expected digest comes from coreutils, not from the code under test.
std::string sha256sum(const std::string& path) {
  FILE* pipe = popen(("sha256sum '" + path + "'").c_str(), "r");
  if (!pipe) return "";
  char hex[65] = {};
  const size_t n = std::fread(hex, 1, 64, pipe);
  pclose(pipe);
  return std::string(hex, n);
}

// Files in the store other than its bookkeeping (manifest, lock).
std::vector<std::string> model_files(const std::string& dir) {
  std::vector<std::string> names;
  if (!fs::exists(dir)) return names;
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (name != "manifest.json" && name != ".lock") names.push_back(name);
  }
  return names;
}

class ModelStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = test::temp_path(std::string("store-") + info->name());
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string part_path(const std::string& name) const { return dir_ + "/" + name + ".gguf.part"; }

  std::string dir_;
};

// --- SHA-256 -----------------------------------------------------------------

TEST(Sha256, StandardVectors) {
  const struct {
    std::string input, digest;
  } cases[] = {
      {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
      {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
      {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(sha256_hex(c.input), c.digest) << "input '" << c.input << "'";
    Sha256 streamed;  // byte by byte: the streaming path gives the same digest
    for (char ch : c.input) streamed.update(&ch, 1);
    EXPECT_EQ(streamed.hex_digest(), c.digest) << "streamed '" << c.input << "'";
  }
}

TEST(Sha256, FileMatchesCoreutils) { EXPECT_EQ(sha256_file(model_path()), sha256sum(model_path())); }

TEST(Sha256, NormalizesUserDigests) {
  const std::string lower(64, 'a');
  EXPECT_EQ(normalize_sha256(std::string(64, 'A')), lower);
  for (const std::string& bad : {std::string(), std::string("abc"), std::string(63, 'a'), std::string(65, 'a'), std::string(64, 'g')})
    EXPECT_THROW(normalize_sha256(bad), Error) << "'" << bad << "'";
}

// --- store from local files ----------------------------------------------------

TEST_F(ModelStoreTest, AddFromFileThenListFindRemove) {
  ModelStore store(dir_);
  EXPECT_TRUE(store.list().empty());
  const InstalledModel added = store.add(model_path(), {});
  EXPECT_EQ(added.name, "stories260K");
  EXPECT_EQ(added.sha256, sha256sum(model_path()));
  EXPECT_EQ(added.size_bytes, fs::file_size(model_path()));
  EXPECT_EQ(added.architecture, "llama");
  EXPECT_EQ(added.source, model_path());
  EXPECT_EQ(added.path, fs::path(dir_) / "stories260K.gguf");
  EXPECT_EQ(sha256sum(added.path), added.sha256);
  EXPECT_GT(added.added_unix, 0);

  const ModelStore reopened(dir_);  // what is installed lives in the manifest, not the object
  ASSERT_EQ(reopened.list().size(), 1u);
  const auto found = reopened.find("stories260K");
  ASSERT_TRUE(found);
  EXPECT_EQ(found->path, added.path);
  EXPECT_EQ(found->sha256, added.sha256);
  EXPECT_EQ(found->size_bytes, added.size_bytes);
  EXPECT_EQ(found->architecture, "llama");
  EXPECT_EQ(found->added_unix, added.added_unix);
  EXPECT_FALSE(reopened.find("other"));

  store.remove("stories260K");
  EXPECT_TRUE(store.list().empty());
  EXPECT_FALSE(fs::exists(added.path));
  EXPECT_THROW(store.remove("stories260K"), Error);
}

TEST_F(ModelStoreTest, NamesAndReaddingTheSameFile) {
  ModelStore store(dir_);
  const InstalledModel first = store.add(model_path(), {.name = "tiny"});
  EXPECT_EQ(first.path, fs::path(dir_) / "tiny.gguf");
  // The same bytes under the same name: nothing changes.
  const InstalledModel again = store.add(model_path(), {.name = "tiny"});
  EXPECT_EQ(again.added_unix, first.added_unix);
  const InstalledModel confirmed = store.add(model_path(), {.name = "tiny", .expected_sha256 = first.sha256});
  EXPECT_EQ(confirmed.path, first.path);
  EXPECT_EQ(store.list().size(), 1u);
  // Different bytes under an installed name: refused, the installed file untouched.
  try {
    store.add(test::shared_path("conformance/llama3/model-Q4_0.gguf"), {.name = "tiny"});
    ADD_FAILURE() << "replaced an installed model";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("already installed"), std::string::npos) << e.what();
  }
  EXPECT_EQ(sha256sum(first.path), first.sha256);
  EXPECT_EQ(model_files(dir_), std::vector<std::string>{"tiny.gguf"});

  for (const std::string bad : {"a/b", "../up", "..", "with space", "x\\y"}) {
    EXPECT_THROW(store.add(model_path(), {.name = bad}), Error) << "'" << bad << "'";
    EXPECT_THROW(check_model_name(bad), Error) << "'" << bad << "'";
  }
  for (const std::string good : {"stories260K", "llama-3.2_1B.Q4_K_M"}) EXPECT_NO_THROW(check_model_name(good));
  EXPECT_EQ(store.list().size(), 1u);
}

TEST_F(ModelStoreTest, FilesThatAreNotModelsInstallNothing) {
  const std::string text_file = test::temp_path("not-a-model.gguf");
  write_bytes(text_file, "this is plain text, not a GGUF file\n");
  const struct {
    std::string path, message;
  } cases[] = {
      {text_file, "GGUF"},
      {test::shared_path("tokenizers/ggml-vocab-baichuan.gguf"), "without tensors"},
  };
  ModelStore store(dir_);
  for (const auto& c : cases) {
    try {
      store.add(c.path, {});
      ADD_FAILURE() << c.path << " was installed";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(c.message), std::string::npos) << e.what();
    }
    EXPECT_TRUE(store.list().empty());
    EXPECT_TRUE(model_files(dir_).empty());
  }
  EXPECT_THROW(store.add(test::temp_path("does-not-exist.gguf"), {}), Error);
}

TEST_F(ModelStoreTest, WrongExpectedShaInstallsNothing) {
  ModelStore store(dir_);
  const std::string wrong(64, '0');
  try {
    store.add(model_path(), {.expected_sha256 = wrong});
    FAIL() << "installed despite a wrong SHA-256";
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find(wrong), std::string::npos) << message;
    EXPECT_NE(message.find(sha256sum(model_path())), std::string::npos) << message;
  }
  EXPECT_TRUE(store.list().empty());
  EXPECT_TRUE(model_files(dir_).empty());
}

TEST(DefaultStoreDir, FollowsTheEnvironment) {
  const struct {
    const char *tandem_home, *xdg_data_home, *home, *expected;
  } cases[] = {
      {"/t", "/x", "/h", "/t/models"},
      {nullptr, "/x", "/h", "/x/tandem/models"},
      {"", "", "/h", "/h/.local/share/tandem/models"},
  };
  const char* names[] = {"TANDEM_HOME", "XDG_DATA_HOME", "HOME"};
  std::vector<std::optional<std::string>> saved;
  for (const char* name : names) saved.push_back(std::getenv(name) ? std::optional<std::string>(std::getenv(name)) : std::nullopt);
  for (const auto& c : cases) {
    const char* values[] = {c.tandem_home, c.xdg_data_home, c.home};
    for (int i = 0; i < 3; ++i) values[i] ? setenv(names[i], values[i], 1) : unsetenv(names[i]);
    EXPECT_EQ(default_store_dir(), c.expected);
  }
  for (int i = 0; i < 3; ++i) saved[i] ? setenv(names[i], saved[i]->c_str(), 1) : unsetenv(names[i]);
}

// --- store from URLs -------------------------------------------------------------

// An in-process HTTP server whose behaviour each test picks. cpp-httplib applies a
// request's Range to any sized body itself (answering 206), so "serves ranges" is a
// sized body, while "ignores Range" streams the whole file chunked, which it leaves alone.
class ModelServer {
 public:
  enum class Mode { ServesRanges, IgnoresRange, NotFound, DropsMidBody };

  explicit ModelServer(std::string body) : body_(std::move(body)) {
    server_.Get("/stories260K.gguf", [this](const httplib::Request& request, httplib::Response& response) {
      serve(request, response);
    });
    server_.Get("/moved", [](const httplib::Request&, httplib::Response& response) {
      response.set_redirect("/stories260K.gguf");
    });
    server_.Get("/text.gguf", [](const httplib::Request&, httplib::Response& response) {
      response.set_content("hello, this is not a model", "application/octet-stream");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    // stop() only stops a server that is already listening.
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~ModelServer() {
    server_.stop();
    thread_.join();
  }

  void set_mode(Mode mode) { mode_ = mode; }
  std::string url(const std::string& path = "/stories260K.gguf") const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  std::vector<std::string> ranges_seen() {
    std::lock_guard<std::mutex> lock(mutex_);
    return ranges_;
  }
  int requests() const { return requests_; }

 private:
  void serve(const httplib::Request& request, httplib::Response& response) {
    ++requests_;
    if (request.has_header("Range")) {
      std::lock_guard<std::mutex> lock(mutex_);
      ranges_.push_back(request.get_header_value("Range"));
    }
    const std::string* body = &body_;
    switch (mode_.load()) {
      case Mode::ServesRanges:
        response.set_content(body_, "application/octet-stream");
        break;
      case Mode::IgnoresRange:
        response.status = 200;
        response.set_chunked_content_provider("application/octet-stream", [body](size_t offset, httplib::DataSink& sink) {
          const size_t n = std::min<size_t>(64 << 10, body->size() - offset);
          sink.write(body->data() + offset, n);
          if (offset + n == body->size()) sink.done();
          return true;
        });
        break;
      case Mode::NotFound:
        response.status = 404;
        response.set_content("no such model", "text/plain");
        break;
      case Mode::DropsMidBody:
        // Announces the whole length, then closes the connection halfway.
        response.set_content_provider(body_.size(), "application/octet-stream",
                                      [body](size_t offset, size_t length, httplib::DataSink& sink) {
                                        if (offset >= body->size() / 2) return false;
                                        sink.write(body->data() + offset, std::min<size_t>(length, 64 << 10));
                                        return true;
                                      });
        break;
    }
  }

  const std::string body_;
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::atomic<Mode> mode_{Mode::ServesRanges};
  std::atomic<int> requests_{0};
  std::mutex mutex_;
  std::vector<std::string> ranges_;
};

class ModelStoreUrlTest : public ModelStoreTest {
 protected:
  void SetUp() override {
    ModelStoreTest::SetUp();
    fs::create_directories(dir_);
  }
  const std::string body_ = read_bytes(model_path());
  const std::string sha_ = sha256sum(model_path());
  ModelServer server_{body_};
};

TEST_F(ModelStoreUrlTest, FullDownload) {
  ModelStore store(dir_);
  const InstalledModel m = store.add(server_.url(), {.expected_sha256 = sha_});
  EXPECT_EQ(m.name, "stories260K");
  EXPECT_EQ(m.sha256, sha_);
  EXPECT_EQ(m.source, server_.url());
  EXPECT_EQ(m.architecture, "llama");
  EXPECT_EQ(read_bytes(m.path), body_);
  EXPECT_TRUE(server_.ranges_seen().empty());
  EXPECT_EQ(model_files(dir_), std::vector<std::string>{"stories260K.gguf"});
}

TEST_F(ModelStoreUrlTest, FollowsRedirects) {
  ModelStore store(dir_);
  const InstalledModel m = store.add(server_.url("/moved"), {.name = "redirected"});
  EXPECT_EQ(m.sha256, sha_);
}

TEST_F(ModelStoreUrlTest, ResumesFromAPartialFile) {
  const size_t half = body_.size() / 2;
  write_bytes(part_path("stories260K"), body_.substr(0, half));
  ModelStore store(dir_);
  const InstalledModel m = store.add(server_.url(), {.expected_sha256 = sha_});
  EXPECT_EQ(server_.ranges_seen(), std::vector<std::string>{"bytes=" + std::to_string(half) + "-"});
  EXPECT_EQ(m.sha256, sha_);
  EXPECT_EQ(read_bytes(m.path), body_);
  EXPECT_FALSE(fs::exists(part_path("stories260K")));
}

TEST_F(ModelStoreUrlTest, ACompletePartialFileNeedsNoBytes) {
  // The server answers 416 to a range that starts at the end of the file.
  write_bytes(part_path("stories260K"), body_);
  ModelStore store(dir_);
  const InstalledModel m = store.add(server_.url(), {.expected_sha256 = sha_});
  EXPECT_EQ(server_.ranges_seen(), std::vector<std::string>{"bytes=" + std::to_string(body_.size()) + "-"});
  EXPECT_EQ(server_.requests(), 1);  // not downloaded again
  EXPECT_EQ(read_bytes(m.path), body_);
}

TEST_F(ModelStoreUrlTest, RestartsWhenTheServerIgnoresRange) {
  const size_t half = body_.size() / 2;
  write_bytes(part_path("stories260K"), body_.substr(0, half));
  server_.set_mode(ModelServer::Mode::IgnoresRange);
  ModelStore store(dir_);
  const InstalledModel m = store.add(server_.url(), {});
  EXPECT_EQ(server_.ranges_seen().size(), 1u);  // asked to resume, got the whole file
  EXPECT_EQ(m.sha256, sha_);
  EXPECT_EQ(m.size_bytes, body_.size());
  EXPECT_EQ(read_bytes(m.path), body_);
}

TEST_F(ModelStoreUrlTest, NotFoundIsAClearError) {
  server_.set_mode(ModelServer::Mode::NotFound);
  ModelStore store(dir_);
  try {
    store.add(server_.url(), {});
    FAIL() << "a 404 installed something";
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("404"), std::string::npos) << message;
    EXPECT_NE(message.find(server_.url()), std::string::npos) << message;
  }
  EXPECT_TRUE(store.list().empty());
  EXPECT_TRUE(model_files(dir_).empty());
}

TEST_F(ModelStoreUrlTest, DroppedConnectionKeepsThePartThenResumes) {
  server_.set_mode(ModelServer::Mode::DropsMidBody);
  ModelStore store(dir_);
  EXPECT_THROW(store.add(server_.url(), {.expected_sha256 = sha_}), Error);
  EXPECT_TRUE(store.list().empty());
  ASSERT_TRUE(fs::exists(part_path("stories260K")));
  const uint64_t kept = fs::file_size(part_path("stories260K"));
  EXPECT_GT(kept, 0u);
  EXPECT_LT(kept, body_.size());
  EXPECT_EQ(read_bytes(part_path("stories260K")), body_.substr(0, kept));

  server_.set_mode(ModelServer::Mode::ServesRanges);
  const InstalledModel m = store.add(server_.url(), {.expected_sha256 = sha_});
  EXPECT_EQ(server_.ranges_seen(), std::vector<std::string>{"bytes=" + std::to_string(kept) + "-"});
  EXPECT_EQ(m.sha256, sha_);
  EXPECT_EQ(read_bytes(m.path), body_);
}

TEST_F(ModelStoreUrlTest, CorruptPartialFileFailsVerificationAndIsDeleted) {
  const size_t half = body_.size() / 2;
  write_bytes(part_path("stories260K"), std::string(half, 'x'));
  ModelStore store(dir_);
  try {
    store.add(server_.url(), {.expected_sha256 = sha_});
    FAIL() << "a corrupt resume was installed";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(sha_), std::string::npos) << e.what();
  }
  EXPECT_TRUE(store.list().empty());
  EXPECT_TRUE(model_files(dir_).empty());  // the next attempt starts clean
}

TEST_F(ModelStoreUrlTest, NonGgufDownloadInstallsNothing) {
  ModelStore store(dir_);
  EXPECT_THROW(store.add(server_.url("/text.gguf"), {}), Error);
  EXPECT_TRUE(store.list().empty());
  EXPECT_TRUE(model_files(dir_).empty());
}

TEST(Urls, FileNamesAndSchemes) {
  EXPECT_TRUE(is_url("https://example.com/m.gguf"));
  EXPECT_TRUE(is_url("http://example.com/m.gguf"));
  EXPECT_FALSE(is_url("ftp://example.com/m.gguf"));
  EXPECT_FALSE(is_url("/models/m.gguf"));
  EXPECT_EQ(url_file_name("https://h.example/org/repo/resolve/main/model-Q4_K_M.gguf?download=true"), "model-Q4_K_M.gguf");
  EXPECT_EQ(url_file_name("http://h.example:8080/a.gguf#frag"), "a.gguf");
  EXPECT_EQ(url_file_name("http://h.example"), "");
}

// --- CLI ---------------------------------------------------------------------------

TEST_F(ModelStoreTest, CliAddListPathRemove) {
  const std::string dir = " --dir '" + dir_ + "'";
  const auto add = test::run_cli("models add '" + model_path() + "' --name tiny" + dir);
  ASSERT_EQ(add.exit_code, 0) << add.err;
  EXPECT_NE(add.out.find(sha256sum(model_path())), std::string::npos) << add.out;

  const auto list = test::run_cli("models list --json" + dir);
  ASSERT_EQ(list.exit_code, 0) << list.err;
  const auto listed = nlohmann::json::parse(list.out);
  ASSERT_EQ(listed["models"].size(), 1u) << list.out;
  EXPECT_EQ(listed["models"][0]["name"], "tiny");
  EXPECT_EQ(listed["models"][0]["architecture"], "llama");

  const auto path = test::run_cli("models path tiny" + dir);
  EXPECT_EQ(path.exit_code, 0) << path.err;
  EXPECT_EQ(path.out, (fs::path(dir_) / "tiny.gguf").string() + "\n");

  EXPECT_EQ(test::run_cli("models remove tiny" + dir).exit_code, 0);
  const auto absent = test::run_cli("models path tiny" + dir);
  EXPECT_NE(absent.exit_code, 0);
  EXPECT_NE(absent.err.find("error: "), std::string::npos) << absent.err;
}

}  // namespace
}  // namespace tandem::model_store
