# libFuzzer harnesses (configure with clang and -DTANDEM_FUZZ=ON; scripts/fuzz.sh does it
# in build-fuzz/). Each tests/fuzz/NAME_fuzzer.cpp is an executable NAME_fuzzer built with
# -fsanitize=fuzzer,address,undefined. They link a library of only the sources they reach,
# so CI's smoke run does not compile the kernels and the model with coverage instrumentation.
if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
  message(FATAL_ERROR "TANDEM_FUZZ needs clang (libFuzzer): CC=clang CXX=clang++ cmake ... -DTANDEM_FUZZ=ON")
endif()
set(TANDEM_FUZZ_FLAGS -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -g -O1)

file(GLOB TANDEM_FUZZ_SOURCES CONFIGURE_DEPENDS
     ${PROJECT_SOURCE_DIR}/src/core/*.cpp ${PROJECT_SOURCE_DIR}/src/gguf/*.cpp ${PROJECT_SOURCE_DIR}/src/quant/types.cpp
     ${PROJECT_SOURCE_DIR}/src/tokenizer/*.cpp ${PROJECT_SOURCE_DIR}/src/generate/json_constraint.cpp
     ${PROJECT_SOURCE_DIR}/src/router/config.cpp ${PROJECT_SOURCE_DIR}/src/router/policy.cpp
     ${PROJECT_SOURCE_DIR}/src/router/difficulty.cpp ${PROJECT_SOURCE_DIR}/src/router/privacy*.cpp
     ${PROJECT_SOURCE_DIR}/src/router/redaction.cpp ${PROJECT_SOURCE_DIR}/src/model_store/*.cpp
     ${PROJECT_SOURCE_DIR}/src/privacy/*.cpp)
# The privacy verdict runs the classifier, whose model is embedded (src/privacy/privacy.cmake).
add_library(tandem_fuzz_lib STATIC ${TANDEM_FUZZ_SOURCES} ${TANDEM_PRIVACY_MODEL_ASM})
target_include_directories(tandem_fuzz_lib PUBLIC ${PROJECT_SOURCE_DIR}/src ${PROJECT_SOURCE_DIR}/include)
target_compile_options(tandem_fuzz_lib PRIVATE ${TANDEM_FUZZ_FLAGS} -fsanitize=fuzzer-no-link)
find_package(PkgConfig REQUIRED)
pkg_check_modules(FUZZ_HTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib)
find_package(OpenSSL REQUIRED)
target_link_libraries(tandem_fuzz_lib PUBLIC Threads::Threads ${UTF8PROC_LIB} nlohmann_json::nlohmann_json
                      PkgConfig::FUZZ_HTTPLIB OpenSSL::SSL OpenSSL::Crypto)

file(GLOB TANDEM_FUZZERS CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/tests/fuzz/*_fuzzer.cpp)
foreach(source ${TANDEM_FUZZERS})
  get_filename_component(name ${source} NAME_WE)
  add_executable(${name} ${source})
  target_compile_options(${name} PRIVATE ${TANDEM_FUZZ_FLAGS} -fsanitize=fuzzer)
  target_link_options(${name} PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_libraries(${name} PRIVATE tandem_fuzz_lib)
  get_filename_component(TANDEM_FUZZ_SHARED_DIR "${PROJECT_SOURCE_DIR}/../shared" ABSOLUTE)
  target_compile_definitions(${name} PRIVATE TANDEM_SHARED_DIR="${TANDEM_FUZZ_SHARED_DIR}")
  list(APPEND TANDEM_FUZZER_TARGETS ${name})
endforeach()
add_custom_target(fuzzers DEPENDS ${TANDEM_FUZZER_TARGETS})
