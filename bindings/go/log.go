package chatbotkit

/*
#include "shim.h"
*/
import "C"

import (
	"sync"
	"sync/atomic"
)

// LogLevel is a cbk_log_level: how severe a log line is.
type LogLevel int

// The cbk_log_level values, most severe first.
const (
	LogError LogLevel = C.CBK_LOG_ERROR
	LogWarn  LogLevel = C.CBK_LOG_WARN
	LogInfo  LogLevel = C.CBK_LOG_INFO
	LogDebug LogLevel = C.CBK_LOG_DEBUG
)

// String names the level for log prefixes.
func (l LogLevel) String() string {
	switch l {
	case LogError:
		return "ERROR"
	case LogWarn:
		return "WARN"
	case LogInfo:
		return "INFO"
	case LogDebug:
		return "DEBUG"
	}
	return "UNKNOWN"
}

type logSink struct {
	fn func(LogLevel, string)
}

var (
	// logMu keeps the Go callback and the library's registration in step
	// when several goroutines set them at once.
	logMu sync.Mutex
	// logFn is read by library threads while it may be replaced. The
	// library is given no user data (so no cgo.Handle that could be
	// deleted under a late line): it may still deliver lines to a replaced
	// callback, and those go to the current function instead.
	logFn atomic.Pointer[logSink]
)

// SetLogCallback sends the library's log lines at level or more severe to
// fn (each attempt, retry and failure; never a header or the secret); a nil
// fn turns logging off. There is one callback per process, as in the C
// library.
//
// fn runs on library threads, several at once, possibly while the library
// drives requests on that thread: keep it short, make it safe for
// concurrent use, and do not make requests from it (they fail with
// StatusInvalidArgument). A panic in fn crashes the program, as in any
// goroutine. A line being logged while the callback is replaced may reach
// either function.
func SetLogCallback(level LogLevel, fn func(level LogLevel, message string)) {
	logMu.Lock()
	defer logMu.Unlock()
	if fn == nil {
		C.cbkgo_set_log_callback(C.int(level), 0)
		logFn.Store(nil)
		return
	}
	logFn.Store(&logSink{fn: fn})
	C.cbkgo_set_log_callback(C.int(level), 1)
}

func deliverLog(level LogLevel, message string) {
	if sink := logFn.Load(); sink != nil {
		sink.fn(level, message)
	}
}
