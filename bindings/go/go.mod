module chatbotkit

go 1.19
