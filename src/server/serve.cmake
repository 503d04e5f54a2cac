# tandem serve, the C API and its C test (issue 5). Included from the top-level CMakeLists.txt.

# Debian ships cpp-httplib as a compiled library whose ABI depends on the defines
# pkg-config gives (OpenSSL/zlib/brotli support), so take them from there.
if(TANDEM_SERVER)
  find_package(PkgConfig REQUIRED)
  pkg_check_modules(CPP_HTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib)
  find_package(SQLite3 REQUIRED)
  find_package(OpenSSL REQUIRED)
  find_package(PNG REQUIRED)
  file(GLOB TANDEM_SERVER_SOURCES CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/src/server/*.cpp
       ${PROJECT_SOURCE_DIR}/src/router/*.cpp ${PROJECT_SOURCE_DIR}/src/model_store/*.cpp
       ${PROJECT_SOURCE_DIR}/src/report/*.cpp)
  add_library(tandem_server STATIC ${TANDEM_SERVER_SOURCES})
  target_link_libraries(tandem_server PUBLIC tandem PkgConfig::CPP_HTTPLIB SQLite::SQLite3 OpenSSL::Crypto PNG::PNG)
  target_link_libraries(tandem_cli PRIVATE tandem_server)
else()
  target_compile_definitions(tandem_cli PRIVATE TANDEM_NO_SERVER)
endif()

# The chat page (web/index.html, no build step of its own) is embedded into the CLI
# as a raw string literal; file(CONFIGURE) rewrites it only when the page changed.
set(TANDEM_CHAT_PAGE_SOURCE ${PROJECT_SOURCE_DIR}/web/index.html)
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${TANDEM_CHAT_PAGE_SOURCE})
file(READ ${TANDEM_CHAT_PAGE_SOURCE} TANDEM_CHAT_PAGE)
file(CONFIGURE OUTPUT ${CMAKE_BINARY_DIR}/generated/chat_page.inc
     CONTENT "R\"tandem_page(\${TANDEM_CHAT_PAGE})tandem_page\"\n")
target_include_directories(tandem_cli PRIVATE ${CMAKE_BINARY_DIR}/generated)

# The C API example, compiled as C.
add_executable(tandem_simple examples/simple.c)
set_target_properties(tandem_simple PROPERTIES C_STANDARD 99 C_STANDARD_REQUIRED ON LINKER_LANGUAGE CXX)
target_link_libraries(tandem_simple PRIVATE tandem)

if(TANDEM_TESTS)
  get_filename_component(TANDEM_SERVE_SHARED_DIR "${PROJECT_SOURCE_DIR}/../shared" ABSOLUTE)
  add_executable(capi_c_test tests/unit/capi_c_test.c)
  set_target_properties(capi_c_test PROPERTIES C_STANDARD 99 C_STANDARD_REQUIRED ON LINKER_LANGUAGE CXX)
  target_link_libraries(capi_c_test PRIVATE tandem)
  target_compile_definitions(capi_c_test PRIVATE TANDEM_SHARED_DIR="${TANDEM_SERVE_SHARED_DIR}")
  add_test(NAME capi_c_test COMMAND capi_c_test)
  add_test(NAME capi_example_simple
           COMMAND tandem_simple ${TANDEM_SERVE_SHARED_DIR}/models/stories260K.gguf "Once upon a time")
  set_tests_properties(capi_c_test capi_example_simple PROPERTIES TIMEOUT 300)
  # The example's output, not only its exit status: llama.cpp's greedy continuation of the prompt
  # (../shared/conformance/stories260K/golden-F32-once.json, 64 tokens), then the line it prints
  # only on success (a pass expression replaces the exit-status check).
  set_tests_properties(capi_example_simple PROPERTIES PASS_REGULAR_EXPRESSION
    "^Once upon a time, there was a little girl named Lily\\. She loved to play outside in the park\\. One day, she saw a big, red ball\\. She wanted to play with it, but it was too high\\.\nLily's mom said\n?5 prompt tokens, 64 generated in")
endif()
