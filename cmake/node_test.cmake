# hy2bit_add_node_test(NAME DIR WHAT): a Node test of the release build.
# `npm ci` installs the packages pinned by DIR/package-lock.json into
# build/<DIR's folder name>-test/ whenever the lock changes (no downloads at test time),
# and CTest runs `node DIR/NAME.mjs --hy2bit BIN --model tiny-q2_0c --modules
# that-folder` as test NAME. Used by tests/webui and tests/clients.
find_program(HY2BIT_NODE node)
find_program(HY2BIT_NPM npm)

function(hy2bit_add_node_test name script dir what)
  if(NOT HY2BIT_NODE OR NOT HY2BIT_NPM)
    message(WARNING "node or npm not found: ${what} (${name}) is left out; scripts/setup.sh installs them")
    return()
  endif()
  get_filename_component(folder ${dir} NAME)
  set(modules ${CMAKE_BINARY_DIR}/${folder}-test)
  set(lock ${CMAKE_SOURCE_DIR}/${dir}/package-lock.json)
  add_custom_command(
    OUTPUT ${modules}/node_modules/.package-lock.json
    COMMAND ${CMAKE_COMMAND} -E make_directory ${modules}
    COMMAND ${CMAKE_COMMAND} -E copy ${CMAKE_SOURCE_DIR}/${dir}/package.json ${lock} ${modules}
    COMMAND ${HY2BIT_NPM} ci --prefix ${modules} --no-audit --no-fund --prefer-offline --loglevel=error
    DEPENDS ${CMAKE_SOURCE_DIR}/${dir}/package.json ${lock}
    COMMENT "npm ci: the packages of ${what} into ${modules}"
    VERBATIM)
  add_custom_target(${name}_deps ALL DEPENDS ${modules}/node_modules/.package-lock.json)
  add_test(NAME ${name}
    COMMAND ${HY2BIT_NODE} ${CMAKE_SOURCE_DIR}/${dir}/${script}
            --hy2bit $<TARGET_FILE:hy2bit_cli>
            --model ${HY2BIT_TESTDATA_DIR}/models/hy-tiny-q2_0c.gguf
            --modules ${modules})
  set_tests_properties(${name} PROPERTIES TIMEOUT 120)
endfunction()
