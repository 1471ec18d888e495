package chatbotkit_test

// These tests run against the loopback stand-in of the API
// (standin/standin.py), started by bindings/go/test.sh through
// scripts/with-standin.sh, which exports its URL and secret.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"chatbotkit"
)

var (
	baseURL string
	secret  string
)

func TestMain(m *testing.M) {
	baseURL = os.Getenv("CHATBOTKIT_API_BASE_URL")
	secret = os.Getenv("CHATBOTKIT_API_SECRET")
	if baseURL == "" || secret == "" {
		fmt.Fprintln(os.Stderr, "CHATBOTKIT_API_BASE_URL and CHATBOTKIT_API_SECRET are not set: "+
			"run the tests under the stand-in, with bindings/go/test.sh or "+
			"scripts/with-standin.sh go test ./... (after make build)")
		os.Exit(1)
	}
	os.Exit(m.Run())
}

// audit appends library output to the file `make test` scans for secrets
// (scripts/check-secrets.sh), when one is given.
func audit(what, text string) {
	path := os.Getenv("CHATBOTKIT_TEST_AUDIT")
	if path == "" {
		return
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return
	}
	defer f.Close()
	fmt.Fprintf(f, "go %s: %s\n", what, strings.ReplaceAll(text, "\n", `\n`))
}

// options gives client options for the stand-in; extra is merged in.
func options(t *testing.T, extra map[string]any) string {
	t.Helper()
	o := map[string]any{"secret": secret, "baseUrl": baseURL, "retryDelay": 1}
	for k, v := range extra {
		o[k] = v
	}
	b, err := json.Marshal(o)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func newConversation(t *testing.T, extra map[string]any) *chatbotkit.ConversationSessionClient {
	t.Helper()
	c, err := chatbotkit.NewConversationSessionClient(options(t, extra))
	if err != nil {
		t.Fatalf("NewConversationSessionClient: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func newBot(t *testing.T, extra map[string]any) *chatbotkit.BotSessionClient {
	t.Helper()
	c, err := chatbotkit.NewBotSessionClient(options(t, extra))
	if err != nil {
		t.Fatalf("NewBotSessionClient: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// contexts are the two ways a request runs: blocking (a context that is
// never done) and as a cancellable task.
func contexts(t *testing.T) map[string]context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return map[string]context.Context{"blocking": context.Background(), "task": ctx}
}

type recorded struct {
	Method  string            `json:"method"`
	Path    string            `json:"path"`
	Headers map[string]string `json:"headers"`
	Body    string            `json:"body"`
}

// requests reads what the stand-in received, through net/http so that the
// check does not depend on the library under test.
func requests(t *testing.T) []recorded {
	t.Helper()
	client := &http.Client{Transport: &http.Transport{}, Timeout: 10 * time.Second}
	resp, err := client.Get(strings.TrimRight(baseURL, "/") + "/_standin/requests")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out []recorded
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out
}

// lastRequestTo finds the latest request the stand-in received for path.
func lastRequestTo(t *testing.T, path string) (recorded, bool) {
	t.Helper()
	reqs := requests(t)
	for i := len(reqs) - 1; i >= 0; i-- {
		if reqs[i].Path == path {
			return reqs[i], true
		}
	}
	return recorded{}, false
}

// uniqueID makes an id no other test uses, to find its request.
func uniqueID(prefix string) string {
	return fmt.Sprintf("%s-%d", prefix, time.Now().UnixNano())
}

// asError checks that err is a *chatbotkit.Error with the given status.
func asError(t *testing.T, err error, status chatbotkit.Status) *chatbotkit.Error {
	t.Helper()
	if err == nil {
		t.Fatalf("expected a %v error, got none", status)
	}
	var e *chatbotkit.Error
	if !errors.As(err, &e) {
		t.Fatalf("expected a *chatbotkit.Error, got %T: %v", err, err)
	}
	audit("error", e.Error())
	if e.Status != status {
		t.Fatalf("expected status %v, got %v: %v", status, e.Status, e)
	}
	if strings.Contains(e.Error(), secret) || strings.Contains(e.JSON(), secret) {
		t.Fatalf("the error shows the secret: %v", e)
	}
	var j struct {
		Status     string `json:"status"`
		Code       string `json:"code"`
		HTTPStatus int    `json:"httpStatus"`
	}
	if err := json.Unmarshal([]byte(e.JSON()), &j); err != nil {
		t.Fatalf("JSON() is not JSON: %q", e.JSON())
	}
	if j.Status != status.String() || j.Code != e.Code || j.HTTPStatus != e.HTTPStatus {
		t.Fatalf("JSON() %s disagrees with %+v", e.JSON(), *e)
	}
	return e
}

type session struct {
	ID             string `json:"id"`
	Token          string `json:"token"`
	ExpiresAt      int64  `json:"expiresAt"`
	ConversationID string `json:"conversationId"`
}

func decodeSession(t *testing.T, s string) session {
	t.Helper()
	var out session
	if err := json.Unmarshal([]byte(s), &out); err != nil {
		t.Fatalf("not a session: %q: %v", s, err)
	}
	if !strings.HasPrefix(out.ID, "cs_") || !strings.HasPrefix(out.Token, "cbk_ct_") || out.ExpiresAt <= time.Now().UnixMilli() {
		t.Fatalf("not a session: %q", s)
	}
	return out
}

func TestVersionAndStatusNames(t *testing.T) {
	if !regexp.MustCompile(`^\d+\.\d+\.\d+`).MatchString(chatbotkit.Version()) {
		t.Fatalf("Version() = %q", chatbotkit.Version())
	}
	names := map[chatbotkit.Status]string{
		chatbotkit.StatusOK:              "OK",
		chatbotkit.StatusInvalidArgument: "INVALID_ARGUMENT",
		chatbotkit.StatusInvalidJSON:     "INVALID_JSON",
		chatbotkit.StatusAPI:             "API",
		chatbotkit.StatusTimeout:         "TIMEOUT",
		chatbotkit.StatusNetwork:         "NETWORK",
		chatbotkit.StatusInvalidResponse: "INVALID_RESPONSE",
		chatbotkit.StatusCancelled:       "CANCELLED",
		chatbotkit.StatusInternal:        "INTERNAL",
		chatbotkit.Status(-1):            "UNKNOWN",
		chatbotkit.Status(99):            "UNKNOWN",
	}
	for s, want := range names {
		if got := s.String(); got != want {
			t.Errorf("Status(%d).String() = %q, want %q", int(s), got, want)
		}
		if got := chatbotkit.StatusName(s); got != want {
			t.Errorf("StatusName(%d) = %q, want %q", int(s), got, want)
		}
	}
	if chatbotkit.StatusCancelled != 7 || chatbotkit.LogDebug != 4 {
		t.Fatal("the constants are not the C ABI's numbers")
	}
}

func TestConversationCreate(t *testing.T) {
	c := newConversation(t, nil)
	for name, ctx := range contexts(t) {
		t.Run(name, func(t *testing.T) {
			id := uniqueID("cnv " + name)
			s, err := c.Create(ctx, id, `{"durationInSeconds":60}`)
			if err != nil {
				t.Fatal(err)
			}
			decodeSession(t, s)
			path := "/api/v1/conversation/" + strings.ReplaceAll(id, " ", "%20") + "/session/create"
			req, ok := lastRequestTo(t, path)
			if !ok {
				t.Fatalf("the stand-in saw no request to %s", path)
			}
			if req.Method != "POST" || req.Body != `{"durationInSeconds":60}` ||
				req.Headers["authorization"] != "Bearer "+secret {
				t.Fatalf("unexpected request %+v", req)
			}
			// "" is the C API's NULL: an empty object.
			if _, err := c.Create(ctx, id, ""); err != nil {
				t.Fatal(err)
			}
			if req, _ := lastRequestTo(t, path); req.Body != "{}" {
				t.Fatalf("body %q, want {}", req.Body)
			}
		})
	}
}

func TestBotCreate(t *testing.T) {
	c := newBot(t, nil)
	for name, ctx := range contexts(t) {
		t.Run(name, func(t *testing.T) {
			id := uniqueID("bot-" + name)
			s, err := c.Create(ctx, id, "")
			if err != nil {
				t.Fatal(err)
			}
			if got := decodeSession(t, s); !strings.HasPrefix(got.ConversationID, "cv_") {
				t.Fatalf("no conversationId in %s", s)
			}
			if _, ok := lastRequestTo(t, "/api/v1/bot/"+id+"/session/create"); !ok {
				t.Fatal("the stand-in saw no bot session request")
			}
		})
	}
}

func TestExtendMergesOptions(t *testing.T) {
	type client interface {
		Create(context.Context, string, string) (string, error)
		Options() (string, error)
		Close() error
	}
	conv := newConversation(t, map[string]any{"headers": map[string]any{"x-a": "1", "x-b": "2"}})
	bot := newBot(t, map[string]any{"headers": map[string]any{"x-a": "1", "x-b": "2"}})
	convChild, err := conv.Extend(`{"headers":{"x-b":"3","x-c":"4"},"timezone":"Europe/London"}`)
	if err != nil {
		t.Fatal(err)
	}
	botChild, err := bot.Extend(`{"headers":{"x-b":"3","x-c":"4"},"timezone":"Europe/London"}`)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name          string
		parent, child client
		route         string
	}{
		{"conversation", conv, convChild, "conversation"},
		{"bot", bot, botChild, "bot"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var opts struct {
				Headers  map[string]string `json:"headers"`
				Timezone string            `json:"timezone"`
				Secret   string            `json:"secret"`
			}
			s, err := tc.child.Options()
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal([]byte(s), &opts); err != nil {
				t.Fatal(err)
			}
			want := map[string]string{"x-a": "1", "x-b": "3", "x-c": "4"}
			if fmt.Sprint(opts.Headers) != fmt.Sprint(want) || opts.Timezone != "Europe/London" || opts.Secret != secret {
				t.Fatalf("merged options %s", s)
			}
			if s, _ := tc.parent.Options(); strings.Contains(s, "x-c") || strings.Contains(s, "Europe/London") {
				t.Fatalf("extend changed the parent: %s", s)
			}
			// The child is independent of its parent.
			if err := tc.parent.Close(); err != nil {
				t.Fatal(err)
			}
			id := uniqueID("extend")
			if _, err := tc.child.Create(context.Background(), id, ""); err != nil {
				t.Fatal(err)
			}
			req, ok := lastRequestTo(t, "/api/v1/"+tc.route+"/"+id+"/session/create")
			if !ok {
				t.Fatal("no request seen")
			}
			for k, v := range want {
				if req.Headers[k] != v {
					t.Errorf("header %s = %q, want %q", k, req.Headers[k], v)
				}
			}
			if req.Headers["x-timezone"] != "Europe/London" {
				t.Errorf("x-timezone = %q", req.Headers["x-timezone"])
			}
			tc.child.Close()
		})
	}
}

func TestFetch(t *testing.T) {
	conv := newConversation(t, nil)
	bot := newBot(t, nil)
	fetchers := map[string]func(context.Context, string, string) (string, error){
		"conversation": conv.Fetch,
		"bot":          bot.Fetch,
	}
	for kind, fetch := range fetchers {
		for name, ctx := range contexts(t) {
			t.Run(kind+"/"+name, func(t *testing.T) {
				s, err := fetch(ctx, "/api/v1/conversation/c1/complete", `{"record":{"text":"hi"}}`)
				if err != nil {
					t.Fatal(err)
				}
				var result struct {
					Text string `json:"text"`
				}
				if err := json.Unmarshal([]byte(s), &result); err != nil || result.Text != "You said: hi" {
					t.Fatalf("fetch gave %q (%v)", s, err)
				}
				s, err = fetch(ctx, "/_standin/requests", `{"method":"GET","query":{"q":"1"}}`)
				if err != nil {
					t.Fatal(err)
				}
				var list []recorded
				if err := json.Unmarshal([]byte(s), &list); err != nil || len(list) == 0 {
					t.Fatalf("fetch gave %.200q (%v)", s, err)
				}
			})
		}
	}
}

func TestFetchErrors(t *testing.T) {
	c := newConversation(t, map[string]any{"retries": 0})
	wrong, err := chatbotkit.NewConversationSessionClient(options(t, map[string]any{"secret": "sk_go_wrong_secret_Zq81"}))
	if err != nil {
		t.Fatal(err)
	}
	defer wrong.Close()
	for name, ctx := range contexts(t) {
		t.Run(name, func(t *testing.T) {
			_, err := c.Fetch(ctx, "/api/v1/nowhere", "")
			e := asError(t, err, chatbotkit.StatusAPI)
			if e.Code != "NOT_FOUND" || e.HTTPStatus != 404 || e.Message == "" {
				t.Fatalf("%+v", *e)
			}
			if !strings.Contains(e.Error(), "NOT_FOUND") || !strings.Contains(e.Error(), "404") {
				t.Fatalf("Error() = %q", e.Error())
			}
			if errors.Is(err, context.Canceled) {
				t.Fatal("an API error matches context.Canceled")
			}

			_, err = wrong.Create(ctx, "c1", "")
			e = asError(t, err, chatbotkit.StatusAPI)
			if e.Code != "NOT_AUTHENTICATED" || e.HTTPStatus != 401 {
				t.Fatalf("%+v", *e)
			}
			if strings.Contains(e.Error(), "sk_go_wrong_secret_Zq81") {
				t.Fatal("the error shows the secret")
			}

			_, err = c.Create(ctx, "fail-503", "")
			e = asError(t, err, chatbotkit.StatusAPI)
			if e.Code != "SERVICE_UNAVAILABLE" || e.HTTPStatus != 503 {
				t.Fatalf("%+v", *e)
			}

			err = c.FetchStream(ctx, "/api/v1/nowhere", "", func(string) bool { return true })
			e = asError(t, err, chatbotkit.StatusAPI)
			if e.HTTPStatus != 404 {
				t.Fatalf("%+v", *e)
			}
		})
	}
}

const streamPath = "/api/v1/conversation/c1/complete"
const streamOptions = `{"record":{"text":"one two three four five six seven eight"}}`

type item struct {
	Type string          `json:"type"`
	Data json.RawMessage `json:"data"`
}

func TestFetchStream(t *testing.T) {
	conv := newConversation(t, nil)
	bot := newBot(t, nil)
	streams := map[string]func(context.Context, string, string, func(string) bool) error{
		"conversation": conv.FetchStream,
		"bot":          bot.FetchStream,
	}
	for kind, stream := range streams {
		for name, ctx := range contexts(t) {
			t.Run(kind+"/"+name, func(t *testing.T) {
				var items []item
				err := stream(ctx, streamPath, streamOptions, func(s string) bool {
					var it item
					if err := json.Unmarshal([]byte(s), &it); err != nil {
						t.Errorf("item %q: %v", s, err)
					}
					items = append(items, it)
					return true
				})
				if err != nil {
					t.Fatal(err)
				}
				// "You said: " and eight words, then the result.
				if len(items) != 11 {
					t.Fatalf("%d items: %+v", len(items), items)
				}
				var text strings.Builder
				for _, it := range items[:10] {
					var tok struct {
						Token string `json:"token"`
					}
					if it.Type != "token" || json.Unmarshal(it.Data, &tok) != nil {
						t.Fatalf("not a token: %+v", it)
					}
					text.WriteString(tok.Token)
				}
				var result struct {
					Text string `json:"text"`
				}
				if items[10].Type != "result" || json.Unmarshal(items[10].Data, &result) != nil || result.Text != text.String() {
					t.Fatalf("result %+v does not match tokens %q", items[10], text.String())
				}
				if req, _ := lastRequestTo(t, streamPath); req.Headers["accept"] != "application/jsonl" {
					t.Fatalf("accept = %q", req.Headers["accept"])
				}

				// Early stop: the call ends without reading the rest
				// (40 more lines, 20 ms apart).
				n := 0
				start := time.Now()
				err = stream(ctx, streamPath, `{"record":{"text":"`+strings.Repeat("w ", 40)+`"}}`, func(string) bool {
					n++
					return n < 2
				})
				if err != nil || n != 2 {
					t.Fatalf("early stop: err %v, %d items", err, n)
				}
				if d := time.Since(start); d > 400*time.Millisecond {
					t.Fatalf("early stop took %v: the rest was read", d)
				}
			})
		}
	}
}

func TestCancelMidStream(t *testing.T) {
	c := newConversation(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	var n atomic.Int32
	start := time.Now()
	err := c.FetchStream(ctx, streamPath, streamOptions, func(string) bool {
		if n.Add(1) == 2 {
			cancel()
		}
		return true
	})
	if !errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v", err)
	}
	asError(t, err, chatbotkit.StatusCancelled)
	if got := n.Load(); got != 2 {
		t.Fatalf("%d items delivered, want 2: none after the cancellation", got)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("cancellation took %v", d)
	}
	time.Sleep(100 * time.Millisecond)
	if got := n.Load(); got != 2 {
		t.Fatalf("an item arrived after FetchStream returned (%d)", got)
	}
}

func TestCancelBeforeStart(t *testing.T) {
	conv := newConversation(t, nil)
	bot := newBot(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	id := uniqueID("never")
	errs := map[string]error{}
	_, errs["conversation create"] = conv.Create(ctx, id, "")
	_, errs["bot create"] = bot.Create(ctx, id, "")
	_, errs["fetch"] = conv.Fetch(ctx, "/api/v1/"+id, "")
	errs["stream"] = bot.FetchStream(ctx, "/api/v1/"+id, "", func(string) bool {
		t.Error("an item was delivered")
		return true
	})
	for name, err := range errs {
		if !errors.Is(err, context.Canceled) {
			t.Errorf("%s: err = %v", name, err)
			continue
		}
		asError(t, err, chatbotkit.StatusCancelled)
	}
	for _, r := range requests(t) {
		if strings.Contains(r.Path, id) {
			t.Fatalf("a request was sent: %+v", r)
		}
	}
}

func TestCancelDuringRequest(t *testing.T) {
	c := newConversation(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	_, err := c.Create(ctx, "slow-3000", "")
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("cancellation took %v", d)
	}
}

func TestDeadline(t *testing.T) {
	c := newConversation(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.Create(ctx, "slow-3000", "")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v", err)
	}
	if errors.Is(err, context.Canceled) {
		t.Fatalf("a deadline also matches context.Canceled: %v", err)
	}
	e := asError(t, err, chatbotkit.StatusCancelled)
	if !strings.Contains(e.Error(), "deadline") {
		t.Fatalf("Error() = %q", e.Error())
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("the deadline took %v", d)
	}

	// A deadline already past: nothing is sent.
	_, err = c.Fetch(ctx, "/api/v1/x", "")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v", err)
	}

	// A deadline mid-stream (11 lines, 20 ms apart).
	ctx2, cancel2 := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel2()
	n := 0
	err = c.FetchStream(ctx2, streamPath, streamOptions, func(string) bool { n++; return true })
	if !errors.Is(err, context.DeadlineExceeded) || n >= 11 {
		t.Fatalf("err = %v after %d items", err, n)
	}
}

func TestInvalidInput(t *testing.T) {
	for _, opts := range []string{"not json", "[]", `{"secret":1}`, `{"nope":true}`} {
		_, err := chatbotkit.NewConversationSessionClient(opts)
		asError(t, err, chatbotkit.StatusInvalidJSON)
		_, err = chatbotkit.NewBotSessionClient(opts)
		asError(t, err, chatbotkit.StatusInvalidJSON)
	}
	_, err := chatbotkit.NewConversationSessionClient(`{"retries":-1}`)
	asError(t, err, chatbotkit.StatusInvalidArgument)
	_, err = chatbotkit.NewBotSessionClient("{\"secret\":\"a\x00b\"}")
	asError(t, err, chatbotkit.StatusInvalidArgument)
	_, err = chatbotkit.NewBotSessionClient("{\"secret\":\"\xff\"}")
	asError(t, err, chatbotkit.StatusInvalidArgument)

	// "" is no options, as NULL is in C.
	empty, err := chatbotkit.NewConversationSessionClient("")
	if err != nil {
		t.Fatal(err)
	}
	empty.Close()

	conv := newConversation(t, nil)
	bot := newBot(t, nil)
	_, err = conv.Extend("{")
	asError(t, err, chatbotkit.StatusInvalidJSON)
	_, err = bot.Extend(`{"timeout":"x"}`)
	asError(t, err, chatbotkit.StatusInvalidJSON)

	for name, ctx := range contexts(t) {
		t.Run(name, func(t *testing.T) {
			for _, id := range []string{"", ".", "..", "a\x00b"} {
				_, err := conv.Create(ctx, id, "")
				asError(t, err, chatbotkit.StatusInvalidArgument)
				_, err = bot.Create(ctx, id, "")
				asError(t, err, chatbotkit.StatusInvalidArgument)
			}
			_, err := conv.Create(ctx, "c1", "[1]")
			asError(t, err, chatbotkit.StatusInvalidJSON)
			_, err = conv.Fetch(ctx, "/x", `{"method":"CONNECT"}`)
			asError(t, err, chatbotkit.StatusInvalidArgument)
			_, err = bot.Fetch(ctx, "/x", "{\"method\":\"GET\",\"record\":{}}")
			asError(t, err, chatbotkit.StatusInvalidArgument)
			err = conv.FetchStream(ctx, streamPath, streamOptions, nil)
			asError(t, err, chatbotkit.StatusInvalidArgument)
			err = bot.FetchStream(ctx, "/x\x00", "", func(string) bool { return true })
			asError(t, err, chatbotkit.StatusInvalidArgument)
		})
	}
	_, err = conv.Create(nil, "c1", "") // a nil context is refused, not a crash
	asError(t, err, chatbotkit.StatusInvalidArgument)
}

func TestConcurrency(t *testing.T) {
	conv := newConversation(t, nil)
	bot := newBot(t, nil)
	const goroutines = 50
	var wg sync.WaitGroup
	var mu sync.Mutex
	tokens := map[string]bool{}
	errs := make(chan error, goroutines*4)
	for i := 0; i < goroutines; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			ctx := context.Background()
			if i%2 == 1 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, 30*time.Second)
				defer cancel()
			}
			for j := 0; j < 3; j++ {
				var s string
				var err error
				if (i+j)%2 == 0 {
					s, err = conv.Create(ctx, fmt.Sprintf("c-%d-%d", i, j), "")
				} else {
					s, err = bot.Create(ctx, fmt.Sprintf("b-%d-%d", i, j), "")
				}
				if err != nil {
					errs <- err
					return
				}
				var got session
				if err := json.Unmarshal([]byte(s), &got); err != nil {
					errs <- err
					return
				}
				mu.Lock()
				tokens[got.Token] = true
				mu.Unlock()
			}
			n := 0
			if err := conv.FetchStream(ctx, streamPath, `{"record":{"text":"a b"}}`, func(string) bool { n++; return true }); err != nil || n != 5 {
				errs <- fmt.Errorf("stream: %v after %d items", err, n)
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if len(tokens) != goroutines*3 {
		t.Fatalf("%d distinct tokens, want %d", len(tokens), goroutines*3)
	}
}

func TestLogCallback(t *testing.T) {
	var mu sync.Mutex
	var lines []string
	var fromCallback error
	c := newConversation(t, map[string]any{"retries": 1})
	chatbotkit.SetLogCallback(chatbotkit.LogDebug, func(level chatbotkit.LogLevel, msg string) {
		mu.Lock()
		defer mu.Unlock()
		if level < chatbotkit.LogError || level > chatbotkit.LogDebug {
			t.Errorf("level %d", level)
		}
		lines = append(lines, level.String()+" "+msg)
		if fromCallback == nil {
			// A request from here could deadlock: it must be refused.
			_, fromCallback = c.Create(context.Background(), "c1", "")
			if fromCallback == nil {
				fromCallback = errors.New("no error")
			}
		}
	})
	defer chatbotkit.SetLogCallback(chatbotkit.LogDebug, nil)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := c.Create(ctx, "c1", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Create(context.Background(), "c2", ""); err != nil {
		t.Fatal(err)
	}
	_, err := c.Create(ctx, "fail-503", "")
	asError(t, err, chatbotkit.StatusAPI)

	mu.Lock()
	got := append([]string(nil), lines...)
	mu.Unlock()
	if len(got) < 4 {
		t.Fatalf("%d log lines: %q", len(got), got)
	}
	var warned, failed bool
	for _, l := range got {
		audit("log", l)
		if strings.Contains(l, secret) {
			t.Fatalf("a log line shows the secret: %q", l)
		}
		warned = warned || strings.HasPrefix(l, "WARN ")
		failed = failed || strings.HasPrefix(l, "ERROR ")
	}
	if !warned || !failed {
		t.Fatalf("no retry or failure line in %q", got)
	}
	asError(t, fromCallback, chatbotkit.StatusInvalidArgument)

	// A higher threshold drops the detail; nil turns logging off.
	chatbotkit.SetLogCallback(chatbotkit.LogError, func(level chatbotkit.LogLevel, msg string) {
		mu.Lock()
		defer mu.Unlock()
		lines = append(lines, level.String()+" "+msg)
	})
	mu.Lock()
	lines = nil
	mu.Unlock()
	if _, err := c.Create(ctx, "c3", ""); err != nil {
		t.Fatal(err)
	}
	_, err = c.Create(ctx, "fail-404", "")
	asError(t, err, chatbotkit.StatusAPI)
	mu.Lock()
	if len(lines) != 1 || !strings.HasPrefix(lines[0], "ERROR ") {
		t.Errorf("at LogError: %q", lines)
	}
	lines = nil
	mu.Unlock()

	chatbotkit.SetLogCallback(chatbotkit.LogDebug, nil)
	if _, err := c.Create(ctx, "fail-404", ""); err == nil {
		t.Fatal("fail-404 succeeded")
	}
	mu.Lock()
	defer mu.Unlock()
	if len(lines) != 0 {
		t.Fatalf("lines after logging was turned off: %q", lines)
	}
}

func TestRequestFromOnItemIsRefused(t *testing.T) {
	c := newConversation(t, nil)
	for name, ctx := range contexts(t) {
		t.Run(name, func(t *testing.T) {
			var inner error
			err := c.FetchStream(ctx, streamPath, streamOptions, func(string) bool {
				_, inner = c.Fetch(ctx, "/api/v1/x", "")
				return false
			})
			if err != nil {
				t.Fatal(err)
			}
			asError(t, inner, chatbotkit.StatusInvalidArgument)
		})
	}
}

func TestPanicInOnItem(t *testing.T) {
	c := newConversation(t, nil)
	for name, ctx := range contexts(t) {
		t.Run(name, func(t *testing.T) {
			n := 0
			func() {
				defer func() {
					if r := recover(); r != "boom" {
						t.Fatalf("recovered %v, want boom", r)
					}
				}()
				c.FetchStream(ctx, streamPath, streamOptions, func(string) bool {
					n++
					panic("boom")
				})
				t.Fatal("FetchStream returned")
			}()
			if n != 1 {
				t.Fatalf("onItem ran %d times", n)
			}
			// The client still works.
			if _, err := c.Create(ctx, "c1", ""); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestClose(t *testing.T) {
	conv, err := chatbotkit.NewConversationSessionClient(options(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	bot, err := chatbotkit.NewBotSessionClient(options(t, nil))
	if err != nil {
		t.Fatal(err)
	}

	// Requests in flight when Close comes complete, blocking or not.
	var wg sync.WaitGroup
	results := make(chan error, 4)
	for _, ctx := range contexts(t) {
		wg.Add(2)
		go func(ctx context.Context) {
			defer wg.Done()
			_, err := conv.Create(ctx, "slow-300", "")
			results <- err
		}(ctx)
		go func(ctx context.Context) {
			defer wg.Done()
			_, err := bot.Create(ctx, "slow-300", "")
			results <- err
		}(ctx)
	}
	time.Sleep(100 * time.Millisecond)
	for i := 0; i < 2; i++ {
		if err := conv.Close(); err != nil {
			t.Fatal(err)
		}
		if err := bot.Close(); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	close(results)
	for err := range results {
		if err != nil {
			t.Errorf("a request in flight at Close failed: %v", err)
		}
	}

	for name, ctx := range contexts(t) {
		t.Run(name, func(t *testing.T) {
			_, err := conv.Create(ctx, "c1", "")
			e := asError(t, err, chatbotkit.StatusInvalidArgument)
			if !strings.Contains(e.Message, "closed") {
				t.Fatalf("message %q", e.Message)
			}
			_, err = bot.Fetch(ctx, "/x", "")
			asError(t, err, chatbotkit.StatusInvalidArgument)
			err = conv.FetchStream(ctx, streamPath, "", func(string) bool { return true })
			asError(t, err, chatbotkit.StatusInvalidArgument)
		})
	}
	_, err = conv.Options()
	asError(t, err, chatbotkit.StatusInvalidArgument)
	_, err = bot.Extend("")
	asError(t, err, chatbotkit.StatusInvalidArgument)
}

func TestFinalizerFreesForgottenClients(t *testing.T) {
	for i := 0; i < 100; i++ {
		c, err := chatbotkit.NewConversationSessionClient(options(t, nil))
		if err != nil {
			t.Fatal(err)
		}
		d, err := c.Extend(`{"timezone":"UTC"}`)
		if err != nil {
			t.Fatal(err)
		}
		if i%10 == 0 {
			if _, err := d.Create(context.Background(), "c1", ""); err != nil {
				t.Fatal(err)
			}
		}
	}
	runtime.GC()
	runtime.GC()
	time.Sleep(10 * time.Millisecond)
}
