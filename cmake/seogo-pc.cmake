# seogo-pc.cmake - run by `cmake --install`: writes seogo.pc for the prefix actually installed
# to (which `--prefix` may change after configuring) and installs it.
# Expects SEOGO_PC_IN, SEOGO_PC_DIR (a scratch directory in the build tree), SEOGO_PC_VERSION,
# SEOGO_LIBDIR and SEOGO_INCLUDEDIR.
set(SEOGO_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")

function(seogo_pc_dir out dir)
  if(IS_ABSOLUTE "${dir}")
    set(${out} "${dir}" PARENT_SCOPE)
  else()
    set(${out} "\${prefix}/${dir}" PARENT_SCOPE)
  endif()
endfunction()
seogo_pc_dir(SEOGO_PC_LIBDIR "${SEOGO_LIBDIR}")
seogo_pc_dir(SEOGO_PC_INCLUDEDIR "${SEOGO_INCLUDEDIR}")

# One scratch file per destination, so that installs into several prefixes at once (tests run
# in parallel) do not overwrite each other's file before it is copied.
string(MD5 seogo_pc_key "$ENV{DESTDIR}${CMAKE_INSTALL_PREFIX}")
set(seogo_pc_out "${SEOGO_PC_DIR}/${seogo_pc_key}/seogo.pc")
configure_file("${SEOGO_PC_IN}" "${seogo_pc_out}" @ONLY)
if(IS_ABSOLUTE "${SEOGO_LIBDIR}")
  set(seogo_pc_dest "${SEOGO_LIBDIR}/pkgconfig")
else()
  set(seogo_pc_dest "${CMAKE_INSTALL_PREFIX}/${SEOGO_LIBDIR}/pkgconfig")
endif()
file(INSTALL DESTINATION "${seogo_pc_dest}" TYPE FILE FILES "${seogo_pc_out}")
file(REMOVE_RECURSE "${SEOGO_PC_DIR}/${seogo_pc_key}")
