package chatbotkit_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"chatbotkit"
)

// Against the real API the options need only the secret; the examples add
// the stand-in's baseUrl, which the test script exports.
func exampleOptions() string {
	opts, _ := json.Marshal(map[string]string{
		"secret":  os.Getenv("CHATBOTKIT_API_SECRET"),
		"baseUrl": os.Getenv("CHATBOTKIT_API_BASE_URL"),
	})
	return string(opts)
}

func Example() {
	client, err := chatbotkit.NewConversationSessionClient(exampleOptions())
	if err != nil {
		fmt.Println(err)
		return
	}
	defer client.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	response, err := client.Create(ctx, "cnv_123", `{"durationInSeconds":3600}`)
	if err != nil {
		fmt.Println(err)
		return
	}
	var session struct {
		Token     string `json:"token"`
		ExpiresAt int64  `json:"expiresAt"`
	}
	if err := json.Unmarshal([]byte(response), &session); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(strings.HasPrefix(session.Token, "cbk_ct_"))
	// Output: true
}

func ExampleConversationSessionClient_FetchStream() {
	client, err := chatbotkit.NewConversationSessionClient(exampleOptions())
	if err != nil {
		fmt.Println(err)
		return
	}
	defer client.Close()

	var text strings.Builder
	err = client.FetchStream(context.Background(), "/api/v1/conversation/cnv_123/complete",
		`{"record":{"text":"Hello"}}`, func(item string) bool {
			var line struct {
				Type string `json:"type"`
				Data struct {
					Token string `json:"token"`
				} `json:"data"`
			}
			if json.Unmarshal([]byte(item), &line) == nil && line.Type == "token" {
				text.WriteString(line.Data.Token)
			}
			return true // false would stop reading
		})
	fmt.Println(text.String(), err)
	// Output: You said: Hello <nil>
}

func ExampleError() {
	client, err := chatbotkit.NewBotSessionClient(exampleOptions())
	if err != nil {
		fmt.Println(err)
		return
	}
	defer client.Close()

	_, err = client.Fetch(context.Background(), "/api/v1/no/such/route", "")
	var e *chatbotkit.Error
	if errors.As(err, &e) {
		fmt.Println(e.Status, e.Code, e.HTTPStatus)
	}
	// Output: API NOT_FOUND 404
}

func ExampleSetLogCallback() {
	chatbotkit.SetLogCallback(chatbotkit.LogWarn, func(level chatbotkit.LogLevel, message string) {
		fmt.Fprintln(os.Stderr, "chatbotkit:", level, message)
	})
	defer chatbotkit.SetLogCallback(chatbotkit.LogWarn, nil) // logging off
	// Output:
}
