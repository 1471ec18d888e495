// Package chatbotkit mints ChatBotKit conversation and bot sessions through
// libchatbotkit, the C library, with the options, URLs, retries and error
// codes of the official Node SDK.
//
// Options and requests are JSON text, exactly as the C API takes them (see
// the library's README for the options), so that nothing is lost or renamed
// on the way; results are the server's JSON, for the caller to decode into
// types of its own.
//
// Requests honour their context: one whose context can be done runs as a
// library task that the context cancels (the call returns only once the
// task has finished, so no callback runs afterwards); one whose context can
// never be done (context.Background) runs as a blocking call on the calling
// goroutine's thread, which saves the hand-off to a library thread.
//
// Clients are safe for concurrent use. Close them when done.
package chatbotkit

/*
#include "shim.h"
*/
import "C"

import (
	"context"
	"runtime"
	"runtime/cgo"
	"strings"
	"sync"
	"unsafe"
)

// Version is the version of the loaded library (cbk_version), which may be
// newer than the header this package was built with.
func Version() string {
	return C.GoString(C.cbk_version())
}

// handle owns a C client. Close may come while calls on other goroutines
// still use the pointer (including blocking calls that last as long as
// their request), so the pointer is freed by whichever of Close and the
// last such call comes later, rather than by Close waiting for them.
type handle struct {
	bot    C.int
	mu     sync.Mutex
	ptr    unsafe.Pointer
	refs   int
	closed bool
}

func (h *handle) acquire() (unsafe.Pointer, *Error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, argError("the client is closed")
	}
	h.refs++
	return h.ptr, nil
}

func (h *handle) release() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.refs--
	if h.closed && h.refs == 0 && h.ptr != nil {
		C.cbkgo_free(h.bot, h.ptr)
		h.ptr = nil
	}
}

func (h *handle) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return
	}
	h.closed = true
	if h.refs == 0 {
		C.cbkgo_free(h.bot, h.ptr)
		h.ptr = nil
	}
}

// cString copies s for C. A Go string may hold NUL bytes, which C would
// read as its end: the call is refused rather than sent truncated.
func cString(name, s string) (*C.char, *Error) {
	if strings.IndexByte(s, 0) >= 0 {
		return nil, argError(name + " contains a NUL byte")
	}
	return C.CString(s), nil
}

// cOptional is cString, except that "" is NULL: the C API's "no value",
// which it reads as {}.
func cOptional(name, s string) (*C.char, *Error) {
	if s == "" {
		return nil, nil
	}
	return cString(name, s)
}

func cFree(s *C.char) {
	C.free(unsafe.Pointer(s))
}

// goString copies and frees a string the library returned.
func goString(s *C.char) string {
	defer C.cbk_string_free(s)
	return C.GoString(s)
}

func newHandle(bot C.int, optionsJSON string) (*handle, error) {
	opts, e := cOptional("optionsJSON", optionsJSON)
	if e != nil {
		return nil, e
	}
	defer cFree(opts)
	var cerr *C.cbk_error
	p := C.cbkgo_new(bot, opts, &cerr)
	if p == nil {
		return nil, takeError(cerr)
	}
	return &handle{bot: bot, ptr: p}, nil
}

func (h *handle) extend(optionsJSON string) (*handle, error) {
	opts, e := cOptional("optionsJSON", optionsJSON)
	if e != nil {
		return nil, e
	}
	defer cFree(opts)
	p, e := h.acquire()
	if e != nil {
		return nil, e
	}
	defer h.release()
	var cerr *C.cbk_error
	q := C.cbkgo_extend(h.bot, p, opts, &cerr)
	if q == nil {
		return nil, takeError(cerr)
	}
	return &handle{bot: h.bot, ptr: q}, nil
}

func (h *handle) options() (string, error) {
	p, e := h.acquire()
	if e != nil {
		return "", e
	}
	defer h.release()
	var cerr *C.cbk_error
	s := C.cbkgo_options(h.bot, p, &cerr)
	if s == nil {
		return "", takeError(cerr)
	}
	return goString(s), nil
}

// call is what a request's callbacks share with the goroutine waiting for
// it. The callbacks find it through a cgo.Handle, as C may not keep Go
// pointers.
type call struct {
	done   chan struct{}
	result string
	err    *Error

	onItem func(string) bool
	// ctxDone is the caller's ctx.Done(): once it is closed, items already
	// on their way are no longer delivered, even before the cancellation
	// reaches the library.
	ctxDone <-chan struct{}
	// panicked and panicValue carry a panic in onItem back to the caller's
	// goroutine, because it cannot unwind through the library's C frames.
	panicked   bool
	panicValue any
	// cutByCtx is set when an item was held back because ctx was done:
	// the stream then ends "stopped" with success, which must still read
	// as ctx's error.
	cutByCtx bool
}

// item delivers one stream item; false stops the stream.
func (c *call) item(s string) (goOn bool) {
	if c.panicked {
		return false
	}
	select {
	case <-c.ctxDone:
		c.cutByCtx = true
		return false
	default:
	}
	defer func() {
		if r := recover(); r != nil {
			c.panicked, c.panicValue, goOn = true, r, false
		}
	}()
	return c.onItem(s)
}

// request is one call of the C API, made blocking or as a task.
type request struct {
	// blocking makes the call on this thread; it reports success.
	blocking func(p unsafe.Pointer, ud C.uintptr_t, cerr **C.cbk_error) bool
	// async starts the call as a task; NULL with *cerr set on bad input.
	async func(p unsafe.Pointer, ud C.uintptr_t, cerr **C.cbk_error) *C.cbk_task
}

// do runs r for a context, as the package documentation describes.
func (h *handle) do(ctx context.Context, c *call, r request) (string, error) {
	if ctx == nil {
		return "", argError("ctx is nil")
	}
	if err := ctx.Err(); err != nil {
		return "", contextError(err)
	}
	if C.cbkgo_in_callback() != 0 {
		// The wait below would block a library thread on work that may
		// be queued behind it.
		return "", argError("a request cannot be made from inside an onItem or log callback")
	}
	p, e := h.acquire()
	if e != nil {
		return "", e
	}
	defer h.release()
	c.done = make(chan struct{})
	c.ctxDone = ctx.Done()
	ch := cgo.NewHandle(c)
	defer ch.Delete()
	ud := C.uintptr_t(ch)
	var cerr *C.cbk_error

	if ctx.Done() == nil {
		ok := r.blocking(p, ud, &cerr)
		if c.panicked {
			C.cbk_error_free(cerr)
			panic(c.panicValue)
		}
		if !ok {
			return "", takeError(cerr)
		}
		return c.result, nil
	}

	task := r.async(p, ud, &cerr)
	if task == nil {
		return "", takeError(cerr)
	}
	defer C.cbk_task_free(task)
	select {
	case <-c.done:
	case <-ctx.Done():
		C.cbk_task_cancel(task)
		<-c.done
	}
	// done is closed from inside the callback; waiting for the task makes
	// sure the callback has also returned before its handle is deleted.
	// The task is finished, so this does not block for long.
	C.cbkgo_task_settle(task)
	if c.panicked {
		panic(c.panicValue)
	}
	if c.err != nil {
		if c.err.Status == StatusCancelled {
			c.err.cause = ctx.Err()
		}
		return "", c.err
	}
	if c.cutByCtx {
		return "", newError(StatusCancelled, "CANCELLED", "the stream was stopped: its context is done", ctx.Err())
	}
	return c.result, nil
}

func (h *handle) create(ctx context.Context, id, requestJSON string) (string, error) {
	cid, e := cString("id", id)
	if e != nil {
		return "", e
	}
	defer cFree(cid)
	creq, e := cOptional("requestJSON", requestJSON)
	if e != nil {
		return "", e
	}
	defer cFree(creq)
	c := &call{}
	return h.do(ctx, c, request{
		blocking: func(p unsafe.Pointer, _ C.uintptr_t, cerr **C.cbk_error) bool {
			s := C.cbkgo_create(h.bot, p, cid, creq, cerr)
			if s == nil {
				return false
			}
			c.result = goString(s)
			return true
		},
		async: func(p unsafe.Pointer, ud C.uintptr_t, cerr **C.cbk_error) *C.cbk_task {
			return C.cbkgo_create_async(h.bot, p, cid, creq, ud, cerr)
		},
	})
}

func (h *handle) fetch(ctx context.Context, path, optionsJSON string) (string, error) {
	cpath, e := cString("path", path)
	if e != nil {
		return "", e
	}
	defer cFree(cpath)
	copts, e := cOptional("optionsJSON", optionsJSON)
	if e != nil {
		return "", e
	}
	defer cFree(copts)
	c := &call{}
	return h.do(ctx, c, request{
		blocking: func(p unsafe.Pointer, _ C.uintptr_t, cerr **C.cbk_error) bool {
			s := C.cbkgo_fetch(h.bot, p, cpath, copts, cerr)
			if s == nil {
				return false
			}
			c.result = goString(s)
			return true
		},
		async: func(p unsafe.Pointer, ud C.uintptr_t, cerr **C.cbk_error) *C.cbk_task {
			return C.cbkgo_fetch_async(h.bot, p, cpath, copts, ud, cerr)
		},
	})
}

func (h *handle) fetchStream(ctx context.Context, path, optionsJSON string, onItem func(string) bool) error {
	cpath, e := cString("path", path)
	if e != nil {
		return e
	}
	defer cFree(cpath)
	copts, e := cOptional("optionsJSON", optionsJSON)
	if e != nil {
		return e
	}
	defer cFree(copts)
	// A nil onItem reaches the library as NULL, which refuses it with its
	// own message.
	withItem := C.int(0)
	if onItem != nil {
		withItem = 1
	}
	c := &call{onItem: onItem}
	_, err := h.do(ctx, c, request{
		blocking: func(p unsafe.Pointer, ud C.uintptr_t, cerr **C.cbk_error) bool {
			return C.cbkgo_fetch_stream(h.bot, p, cpath, copts, withItem, ud, cerr) == C.CBK_OK
		},
		async: func(p unsafe.Pointer, ud C.uintptr_t, cerr **C.cbk_error) *C.cbk_task {
			return C.cbkgo_fetch_stream_async(h.bot, p, cpath, copts, withItem, ud, cerr)
		},
	})
	return err
}

// ConversationSessionClient mints conversation sessions (the SDK's
// ConversationSessionClient). Safe for concurrent use.
type ConversationSessionClient struct {
	h *handle
}

// NewConversationSessionClient makes a client from a JSON object of options
// ("" for none), e.g. {"secret":"sk_..."}. Every option is checked here, so
// a bad one fails now rather than at the first request.
func NewConversationSessionClient(optionsJSON string) (*ConversationSessionClient, error) {
	h, err := newHandle(0, optionsJSON)
	if err != nil {
		return nil, err
	}
	return newConversation(h), nil
}

func newConversation(h *handle) *ConversationSessionClient {
	c := &ConversationSessionClient{h: h}
	// A safety net for a forgotten Close; Close is the documented way, as
	// the finalizer may run late or never.
	runtime.SetFinalizer(c, (*ConversationSessionClient).Close)
	return c
}

// Extend derives a client whose options are this one's merged with
// optionsJSON, as the SDK's extend merges them. The two clients are
// independent: close them in any order.
func (c *ConversationSessionClient) Extend(optionsJSON string) (*ConversationSessionClient, error) {
	h, err := c.h.extend(optionsJSON)
	if err != nil {
		return nil, err
	}
	return newConversation(h), nil
}

// Create mints a session for conversationID, sending requestJSON ("" for
// {}) as the body, and returns the server's JSON ({"id", "token",
// "expiresAt"}). When ctx is done first the request is cancelled and the
// error matches ctx.Err() under errors.Is; a request that had already
// finished returns its outcome instead.
func (c *ConversationSessionClient) Create(ctx context.Context, conversationID, requestJSON string) (string, error) {
	defer runtime.KeepAlive(c)
	return c.h.create(ctx, conversationID, requestJSON)
}

// Fetch makes a raw API request (the SDK's clientFetch) to path, resolved
// against the base URL, with optionsJSON ("" for none: method, headers,
// query, record, ...), and returns the JSON response, or for another
// content type {"headers", "data" (base64), "encoding"}. Context as Create.
func (c *ConversationSessionClient) Fetch(ctx context.Context, path, optionsJSON string) (string, error) {
	defer runtime.KeepAlive(c)
	return c.h.fetch(ctx, path, optionsJSON)
}

// FetchStream makes Fetch's request and reads the body as JSON Lines,
// passing each line's JSON text to onItem as it arrives; onItem returns
// false to stop reading (the connection is then closed, and FetchStream
// returns nil). Items come one at a time, in order, possibly on a library
// thread: onItem must not make requests itself (they fail with
// StatusInvalidArgument), and a slow onItem holds up that thread. A panic
// in onItem stops the stream and is raised again in the caller's goroutine.
// When ctx is done the stream is cancelled, no further item is delivered,
// and the error matches ctx.Err().
func (c *ConversationSessionClient) FetchStream(ctx context.Context, path, optionsJSON string, onItem func(item string) bool) error {
	defer runtime.KeepAlive(c)
	return c.h.fetchStream(ctx, path, optionsJSON, onItem)
}

// Options returns the client's effective options as JSON, valid input for
// NewConversationSessionClient. It is the one output that holds the secret:
// treat it as such.
func (c *ConversationSessionClient) Options() (string, error) {
	defer runtime.KeepAlive(c)
	return c.h.options()
}

// Close releases the client. It may be called more than once and while
// other goroutines' requests are in flight: those complete, and requests
// made after Close fail with StatusInvalidArgument. Clients made from this
// one by Extend are not affected. It always returns nil.
func (c *ConversationSessionClient) Close() error {
	runtime.SetFinalizer(c, nil)
	c.h.close()
	return nil
}

// BotSessionClient mints bot sessions (the SDK's BotSessionClient, formerly
// SessionClient). Safe for concurrent use.
type BotSessionClient struct {
	h *handle
}

// NewBotSessionClient makes a client from a JSON object of options ("" for
// none); the same rules as NewConversationSessionClient.
func NewBotSessionClient(optionsJSON string) (*BotSessionClient, error) {
	h, err := newHandle(1, optionsJSON)
	if err != nil {
		return nil, err
	}
	return newBot(h), nil
}

func newBot(h *handle) *BotSessionClient {
	c := &BotSessionClient{h: h}
	runtime.SetFinalizer(c, (*BotSessionClient).Close)
	return c
}

// Extend derives a client with merged options; the same rules as
// ConversationSessionClient.Extend.
func (c *BotSessionClient) Extend(optionsJSON string) (*BotSessionClient, error) {
	h, err := c.h.extend(optionsJSON)
	if err != nil {
		return nil, err
	}
	return newBot(h), nil
}

// Create mints a session for botID; the response also carries the new
// conversationId. Otherwise the same rules as
// ConversationSessionClient.Create.
func (c *BotSessionClient) Create(ctx context.Context, botID, requestJSON string) (string, error) {
	defer runtime.KeepAlive(c)
	return c.h.create(ctx, botID, requestJSON)
}

// Fetch makes a raw API request; the same rules as
// ConversationSessionClient.Fetch.
func (c *BotSessionClient) Fetch(ctx context.Context, path, optionsJSON string) (string, error) {
	defer runtime.KeepAlive(c)
	return c.h.fetch(ctx, path, optionsJSON)
}

// FetchStream streams a raw API request's JSON Lines; the same rules as
// ConversationSessionClient.FetchStream.
func (c *BotSessionClient) FetchStream(ctx context.Context, path, optionsJSON string, onItem func(item string) bool) error {
	defer runtime.KeepAlive(c)
	return c.h.fetchStream(ctx, path, optionsJSON, onItem)
}

// Options returns the effective options, secret included; the same rules
// as ConversationSessionClient.Options.
func (c *BotSessionClient) Options() (string, error) {
	defer runtime.KeepAlive(c)
	return c.h.options()
}

// Close releases the client; the same rules as
// ConversationSessionClient.Close.
func (c *BotSessionClient) Close() error {
	runtime.SetFinalizer(c, nil)
	c.h.close()
	return nil
}
