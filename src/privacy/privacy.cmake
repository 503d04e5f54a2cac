# The privacy classifier's model is part of the library (issue 17): the assembler copies
# data/privacy/privacy-model.bin into read-only data, so the CLI, the server and the C API
# all have it without a path. Included from the top-level CMakeLists.txt.
enable_language(ASM)
set(TANDEM_PRIVACY_MODEL ${PROJECT_SOURCE_DIR}/data/privacy/privacy-model.bin)
set(TANDEM_PRIVACY_MODEL_ASM ${CMAKE_BINARY_DIR}/generated/privacy_model.S)
if(EXISTS ${TANDEM_PRIVACY_MODEL})
  set(TANDEM_PRIVACY_INCBIN ".incbin \"${TANDEM_PRIVACY_MODEL}\"")
  set(TANDEM_PRIVACY_MODEL_DEPENDS ${TANDEM_PRIVACY_MODEL})
else()
  message(WARNING "no ${TANDEM_PRIVACY_MODEL}: the library embeds no privacy model (tandem privacy train makes one)")
  set(TANDEM_PRIVACY_INCBIN "")
  set(TANDEM_PRIVACY_MODEL_DEPENDS "")
endif()
file(CONFIGURE OUTPUT ${TANDEM_PRIVACY_MODEL_ASM} CONTENT [=[
  .section .rodata
  .balign 16
  .global tandem_privacy_model_begin
  .global tandem_privacy_model_end
tandem_privacy_model_begin:
  ${TANDEM_PRIVACY_INCBIN}
tandem_privacy_model_end:
  .section .note.GNU-stack,"",%progbits
]=])
set_source_files_properties(${TANDEM_PRIVACY_MODEL_ASM} PROPERTIES OBJECT_DEPENDS "${TANDEM_PRIVACY_MODEL_DEPENDS}")
target_sources(tandem PRIVATE ${TANDEM_PRIVACY_MODEL_ASM})
# Training and scoring must give the same bits on every platform: no fused multiply-add.
set_source_files_properties(${PROJECT_SOURCE_DIR}/src/privacy/train.cpp ${PROJECT_SOURCE_DIR}/src/privacy/classifier.cpp
                            ${PROJECT_SOURCE_DIR}/src/privacy/features.cpp PROPERTIES COMPILE_OPTIONS "-ffp-contract=off")
