//go:build chatbotkit_pkgconfig

package chatbotkit

// With `-tags chatbotkit_pkgconfig` the flags come from the chatbotkit.pc
// that `make install` writes, for a library installed under a prefix the
// toolchain does not search by default (set PKG_CONFIG_PATH to find it).

/*
#cgo pkg-config: chatbotkit
*/
import "C"
