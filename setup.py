"""Build of sparktorch7: one Cython extension with LuaJIT 2.1 linked in (scripts/build_luajit.sh)."""
import os
import shlex
import subprocess
import sys

from setuptools import Extension, find_packages, setup


HERE = os.path.dirname(os.path.abspath(__file__))
# scripts/build_wheel.sh points this at a LuaJIT built for the manylinux2014 target
BUNDLED = os.environ.get("SPARKTORCH7_LUAJIT_PREFIX") or os.path.join(HERE, "build", "luajit")


def luajit_flags():
    """Include dirs, libraries and extra link arguments for LuaJIT.

    By default the LuaJIT that scripts/build_luajit.sh builds into build/luajit (run here when it
    is missing), linked statically: the extension then needs no libluajit at run time.
    SPARKTORCH7_LUAJIT=system links the system's shared LuaJIT found by `pkg-config luajit`.
    """
    if os.environ.get("SPARKTORCH7_LUAJIT", "bundled") == "system":
        return system_luajit_flags()
    archive = os.path.join(BUNDLED, "lib", "libluajit-5.1.a")
    if not os.path.exists(archive):
        subprocess.check_call(["bash", os.path.join(HERE, "scripts", "build_luajit.sh")],
                              env={**os.environ, "LUAJIT_PREFIX": BUNDLED})
    # the version script keeps LuaJIT's symbols private to the extension
    return ([os.path.join(BUNDLED, "include", "luajit-2.1")], [], [],
            [archive, "-lm", "-ldl", "-Wl,--version-script=" + os.path.join(HERE, "scripts", "extension.map")])


def system_luajit_flags():
    """Flags of the system LuaJIT (pkg-config luajit), or stop with one clear line."""
    try:
        cflags = subprocess.check_output(["pkg-config", "--cflags", "luajit"], text=True, stderr=subprocess.DEVNULL)
        libs = subprocess.check_output(["pkg-config", "--libs", "luajit"], text=True, stderr=subprocess.DEVNULL)
    except (OSError, subprocess.CalledProcessError):
        sys.exit("sparktorch7: SPARKTORCH7_LUAJIT=system but `pkg-config luajit` finds no LuaJIT; "
                 "install the Debian/Ubuntu package libluajit-5.1-dev (and pkg-config)")
    include_dirs, library_dirs, libraries = [], [], []
    for flag in shlex.split(cflags):
        if flag.startswith("-I"):
            include_dirs.append(flag[2:])
    for flag in shlex.split(libs):
        if flag.startswith("-L"):
            library_dirs.append(flag[2:])
        elif flag.startswith("-l"):
            libraries.append(flag[2:])
    return include_dirs, library_dirs, libraries, []


def extensions():
    import numpy
    from Cython.Build import cythonize

    include_dirs, library_dirs, libraries, link_args = luajit_flags()
    ext = Extension(
        "sparktorch7._lua",
        ["sparktorch7/_lua.pyx"],
        include_dirs=include_dirs + [numpy.get_include()],
        library_dirs=library_dirs,
        libraries=libraries,
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_2_0_API_VERSION")],
        extra_compile_args=["-O2"],
        extra_link_args=link_args,
    )
    return cythonize(
        [ext],
        language_level=3,
        compiler_directives={"boundscheck": False, "wraparound": False, "embedsignature": True},
        quiet=True,
    )


lua_files = []
for root, _dirs, files in os.walk(os.path.join("sparktorch7", "lua")):
    for name in files:
        if name.endswith(".lua"):
            lua_files.append(os.path.relpath(os.path.join(root, name), "sparktorch7"))

setup(
    name="sparktorch7",
    version="0.1.0",
    description="Run Torch7 (.t7) models and Lua scoring code over big data with PySpark",
    packages=find_packages(include=["sparktorch7", "sparktorch7.*"]),
    package_data={"sparktorch7": lua_files + ["*.pxd", "*.pyx", "*.pxi"]},
    ext_modules=extensions(),
    python_requires=">=3.10",
    install_requires=["numpy>=2", "pyarrow>=15", "pandas<3"],
    extras_require={"spark": ["pyspark>=4.1"]},
    zip_safe=False,
)
