# CivetWeb 1.15 from Debian's source package, compiled with Mbed TLS.
set(ROVE_CIVETWEB_DIR ${CMAKE_BINARY_DIR}/_deps/civetweb)
# The script fetches only when the stamp does not match the current patch set.
file(GLOB _cw_patches ${CMAKE_SOURCE_DIR}/third_party/civetweb/*.patch)
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${_cw_patches})
execute_process(
    COMMAND ${CMAKE_SOURCE_DIR}/scripts/fetch-civetweb.sh ${ROVE_CIVETWEB_DIR}
    RESULT_VARIABLE _cw_rc)
if(NOT _cw_rc EQUAL 0)
    message(FATAL_ERROR "Could not fetch CivetWeb (run scripts/setup.sh first)")
endif()
add_library(rove_civetweb STATIC ${ROVE_CIVETWEB_DIR}/src/civetweb.c)
target_include_directories(rove_civetweb SYSTEM PUBLIC ${ROVE_CIVETWEB_DIR}/include)
target_compile_definitions(rove_civetweb
    PUBLIC USE_MBEDTLS
    PRIVATE NO_CGI NO_FILES USE_IPV6 NO_CACHING)
target_compile_options(rove_civetweb PRIVATE -w)
target_link_libraries(rove_civetweb PUBLIC ${MBEDTLS_LIB} ${MBEDX509_LIB} ${MBEDCRYPTO_LIB}
    Threads::Threads ${CMAKE_DL_LIBS})
