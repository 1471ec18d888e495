//go:build !chatbotkit_pkgconfig

package chatbotkit

// The default finds the header and library of the repository this package
// sits in, so that `go test` works right after `make build` with nothing
// installed; the rpath spares LD_LIBRARY_PATH. Outside the repository these
// directories do not exist and cost nothing: the compiler and linker then
// fall back to their standard paths (/usr/local/include, /usr/local/lib, ...)
// or to CGO_CFLAGS and CGO_LDFLAGS.

/*
#cgo CFLAGS: -I${SRCDIR}/../../include
#cgo LDFLAGS: -L${SRCDIR}/../../target/release -Wl,-rpath,${SRCDIR}/../../target/release -lchatbotkit
*/
import "C"
