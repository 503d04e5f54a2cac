# The assistant apps (src/assistant: documents, chunking, summaries, writing tasks), a
# library above the router and below the surfaces (server, CLI, C API). Included from
# src/server/serve.cmake where the router is built. PDF text comes from poppler-cpp,
# HTML text from libxml2's HTML parser; data/assistant/tasks.json is built in and
# installed as the reference for $TANDEM_HOME/assistant/tasks.json.
pkg_check_modules(POPPLER_CPP REQUIRED IMPORTED_TARGET poppler-cpp)
find_package(LibXml2 REQUIRED)
file(GLOB TANDEM_ASSISTANT_SOURCES CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/src/assistant/*.cpp)
add_library(tandem_assistant STATIC ${TANDEM_ASSISTANT_SOURCES})
target_link_libraries(tandem_assistant PUBLIC tandem_router PkgConfig::POPPLER_CPP LibXml2::LibXml2)

set(TANDEM_TASKS_SOURCE ${PROJECT_SOURCE_DIR}/data/assistant/tasks.json)
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${TANDEM_TASKS_SOURCE})
file(READ ${TANDEM_TASKS_SOURCE} TANDEM_TASKS_JSON)
file(CONFIGURE OUTPUT ${CMAKE_BINARY_DIR}/generated/assistant_tasks.inc
     CONTENT "R\"tandem_tasks(\${TANDEM_TASKS_JSON})tandem_tasks\"\n")
target_include_directories(tandem_assistant PRIVATE ${CMAKE_BINARY_DIR}/generated)
install(FILES ${TANDEM_TASKS_SOURCE} DESTINATION ${CMAKE_INSTALL_DATADIR}/tandem/assistant)

# bench/summarize: ROUGE-L of the summarize app against reference summaries (docs/assistant.md).
add_executable(summarize_eval ${PROJECT_SOURCE_DIR}/bench/summarize/summarize_eval.cpp)
target_link_libraries(summarize_eval PRIVATE tandem_assistant CLI11::CLI11)
target_compile_definitions(summarize_eval PRIVATE TANDEM_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
