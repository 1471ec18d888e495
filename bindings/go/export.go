package chatbotkit

// The Go functions the C glue (shim.c) hands to the library as callbacks.
// cgo forbids C definitions in the preamble of a file with //export, which
// is why they sit alone here.

/*
#include <stdint.h>
#include <chatbotkit.h>
*/
import "C"

import "runtime/cgo"

// cbkgoDone receives a task's outcome. It copies what it needs before
// returning, because the library's strings and error are borrowed for the
// length of the call only.
//
//export cbkgoDone
func cbkgoDone(h C.uintptr_t, response *C.char, cerr *C.cbk_error) {
	c := cgo.Handle(h).Value().(*call)
	if cerr != nil {
		c.err = copyError(cerr)
	} else if response != nil {
		c.result = C.GoString(response)
	}
	close(c.done)
}

// cbkgoItem passes one stream item to the caller's onItem and maps its
// answer onto the library's convention (non-zero stops).
//
//export cbkgoItem
func cbkgoItem(h C.uintptr_t, item *C.char) C.int {
	c := cgo.Handle(h).Value().(*call)
	if c.item(C.GoString(item)) {
		return 0
	}
	return 1
}

// cbkgoLog forwards one log line to the current Go log callback.
//
//export cbkgoLog
func cbkgoLog(level C.int, message *C.char) {
	deliverLog(LogLevel(level), C.GoString(message))
}
