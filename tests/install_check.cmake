# Installs the build into PREFIX and checks the result: every tool in BINDIR, runnable
# (--version exits 0), and README.md and LICENSE in DOCDIR. Run by CTest (tests/CMakeLists.txt).
file(REMOVE_RECURSE "${PREFIX}")
execute_process(COMMAND "${CMAKE_COMMAND}" --install "${BUILD_DIR}" --prefix "${PREFIX}"
                RESULT_VARIABLE status OUTPUT_VARIABLE output ERROR_VARIABLE output)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "cmake --install failed (${status}):\n${output}")
endif()
foreach(tool convert_dir_to_note_sequences melody_rnn_create_dataset melody_rnn_train
             melody_rnn_eval melody_rnn_generate melody_rnn_export)
  set(binary "${PREFIX}/${BINDIR}/${tool}")
  if(NOT EXISTS "${binary}")
    message(FATAL_ERROR "not installed: ${binary}")
  endif()
  execute_process(COMMAND "${binary}" --version RESULT_VARIABLE status
                  OUTPUT_VARIABLE output ERROR_VARIABLE output)
  if(NOT status EQUAL 0)
    message(FATAL_ERROR "${binary} --version exited ${status}:\n${output}")
  endif()
endforeach()
foreach(doc README.md LICENSE)
  if(NOT EXISTS "${PREFIX}/${DOCDIR}/${doc}")
    message(FATAL_ERROR "not installed: ${PREFIX}/${DOCDIR}/${doc}")
  endif()
endforeach()
file(REMOVE_RECURSE "${PREFIX}")
