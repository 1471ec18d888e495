/*
 * cpp_session.cpp - mint a conversation session token from C++17 with the
 * header-only wrapper include/chatbotkit.hpp.
 *
 * The C++ equivalent of conversation_session.c, and of the Node SDK's
 *
 *     const client = new ConversationSessionClient({ secret, baseUrl })
 *     const session = await client.create(conversationId, {})
 *
 * Usage:
 *     CHATBOTKIT_API_SECRET=sk_... ./cpp_session [CONVERSATION_ID]
 *
 * Environment:
 *     CHATBOTKIT_API_SECRET       required: your ChatBotKit API secret
 *     CHATBOTKIT_API_BASE_URL     optional: another API base URL (e.g. a local stand-in)
 *     CHATBOTKIT_CONVERSATION_ID  optional: used when no argument is given
 *
 * Exit status: 0 on success, 1 when the library reports an error, 2 on a
 * usage error (e.g. the secret is not set).
 *
 * Build (from the repository root, after `make build`):
 *     g++ -std=c++17 examples-c/cpp_session.cpp -Iinclude -Ltarget/release \
 *         -Wl,-rpath,$PWD/target/release -lchatbotkit -o cpp_session
 * or `make -C tests/cpp build` (builds tests/cpp/build/cpp_session), and
 * against the stand-in: scripts/with-standin.sh tests/cpp/build/cpp_session
 */
#include <chatbotkit.hpp>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>

namespace {

/* getenv() that treats an empty variable like an unset one. */
const char *env_nonempty(const char *name)
{
    const char *value = std::getenv(name);
    return (value != nullptr && value[0] != '\0') ? value : nullptr;
}

/* `s` as a JSON string literal: the values come from outside the program,
 * so they are escaped rather than pasted into the JSON. */
std::string json_string(const std::string &s)
{
    std::string out = "\"";
    for (unsigned char c : s) {
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
            if (c < 0x20 || c == 0x7f) {
                char esc[8];
                std::snprintf(esc, sizeof esc, "\\u%04x", c);
                out += esc;
            } else {
                out += static_cast<char>(c);
            }
        }
    }
    return out + "\"";
}

/* The value of the top-level string member `key` of a flat JSON object such
 * as a session response (just enough for this example: use a JSON library
 * in real code). Empty when there is none. */
std::string string_member(const std::string &json, const std::string &key)
{
    const std::string needle = "\"" + key + "\":";
    std::string::size_type at = json.find(needle);
    if (at == std::string::npos) {
        return "";
    }
    at = json.find('"', at + needle.size());
    if (at == std::string::npos) {
        return "";
    }
    std::string value;
    for (std::string::size_type i = at + 1; i < json.size() && json[i] != '"'; i++) {
        if (json[i] == '\\' && i + 1 < json.size()) {
            i++;
        }
        value += json[i];
    }
    return value;
}

} // namespace

int main(int argc, char **argv)
{
    /* 1. Configuration from the environment. Never hard-code the secret. */
    const char *secret = env_nonempty("CHATBOTKIT_API_SECRET");
    if (secret == nullptr) {
        std::cerr << "error: CHATBOTKIT_API_SECRET is not set.\n"
                     "Set it to your ChatBotKit API secret, e.g.\n"
                     "    CHATBOTKIT_API_SECRET=sk_... "
                  << (argc > 0 ? argv[0] : "cpp_session") << " [CONVERSATION_ID]\n";
        return 2;
    }
    const char *base_url = env_nonempty("CHATBOTKIT_API_BASE_URL"); /* may be null */
    const char *conversation_id = argc > 1 ? argv[1] : env_nonempty("CHATBOTKIT_CONVERSATION_ID");
    if (conversation_id == nullptr) {
        conversation_id = "conv_demo"; /* the real API answers NOT_FOUND */
    }

    std::cout << "libchatbotkit " << chatbotkit::version() << " (C++)\n";

    /* 2. The options JSON. */
    std::string options = "{\"secret\":" + json_string(secret);
    if (base_url != nullptr) {
        options += ",\"baseUrl\":" + json_string(base_url);
    }
    options += "}";

    try {
        /* 3. The client: an RAII handle, freed when it goes out of scope.
         *    Reuse it for many requests, from many threads if you like. */
        chatbotkit::conversation_session_client client(options);

        /* 4. Mint the session. Blocks until the API answers (retrying 429
         *    and 5xx answers as the SDK does). */
        std::cout << "creating a session for conversation \"" << conversation_id << "\""
                  << (base_url ? " at " : "") << (base_url ? base_url : "") << "\n";
        const std::string session = client.create(conversation_id);

        /* 5. The response is the API's JSON as is:
         *    {"id": "...", "token": "...", "expiresAt": ...} */
        const std::string token = string_member(session, "token");
        if (token.empty()) {
            std::cerr << "error: the response has no \"token\": " << session << "\n";
            return 1;
        }
        std::cout << "conversation session token: " << token << "\n";
        std::cout << "full response: " << session << "\n";
        return 0;
    } catch (const chatbotkit::error &e) {
        /* Every failure is a chatbotkit::error; none of its fields contains the secret. */
        std::cerr << "error: " << e.status_name() << " (" << static_cast<int>(e.status()) << ")\n"
                  << "  code:        " << e.code() << "\n"
                  << "  message:     " << e.message() << "\n"
                  << "  http status: " << e.http_status() << "\n";
        return 1;
    }
}
