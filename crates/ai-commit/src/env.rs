//! Every environment variable ai-commit reads, declared once (documented in docs/ai-commit.md).

/// One environment variable: its name and what it does.
#[derive(Debug, Clone, Copy)]
pub struct EnvVar {
    pub name: &'static str,
    pub doc: &'static str,
}

impl EnvVar {
    /// The value, when set and not blank.
    #[must_use]
    pub fn get(&self) -> Option<String> {
        std::env::var(self.name)
            .ok()
            .filter(|v| !v.trim().is_empty())
    }
}

pub const CONFIG: EnvVar = EnvVar {
    name: "AI_COMMIT_CONFIG",
    doc: "config file to read instead of $XDG_CONFIG_HOME/ai-commit/config.toml (must exist)",
};
pub const PROVIDER: EnvVar = EnvVar {
    name: "AI_COMMIT_PROVIDER",
    doc: "wire protocol: ollama | openai (overrides `provider`)",
};
pub const ENDPOINT: EnvVar = EnvVar {
    name: "AI_COMMIT_ENDPOINT",
    doc: "server base URL (overrides `endpoint`)",
};
pub const MODEL: EnvVar = EnvVar {
    name: "AI_COMMIT_MODEL",
    doc: "model name (overrides `model`)",
};
pub const NUM_CTX: EnvVar = EnvVar {
    name: "AI_COMMIT_NUM_CTX",
    doc: "context window in tokens (overrides `num_ctx`)",
};
pub const TIMEOUT_SECS: EnvVar = EnvVar {
    name: "AI_COMMIT_TIMEOUT_SECS",
    doc: "total request timeout in seconds (overrides `timeout_secs`)",
};
pub const STALL_TIMEOUT_SECS: EnvVar = EnvVar {
    name: "AI_COMMIT_STALL_TIMEOUT_SECS",
    doc: "longest silence in seconds once the answer has started (overrides `stall_timeout_secs`)",
};
pub const HOOK_TIMEOUT_SECS: EnvVar = EnvVar {
    name: "AI_COMMIT_HOOK_TIMEOUT_SECS",
    doc: "total request budget in seconds inside the git hook (overrides `hook_timeout_secs`)",
};
pub const API_KEY_FILE: EnvVar = EnvVar {
    name: "AI_COMMIT_API_KEY_FILE",
    doc: "file holding the API key for a remote OpenAI-compatible server (overrides `api_key_file`)",
};
pub const OLLAMA_HOST: EnvVar = EnvVar {
    name: "OLLAMA_HOST",
    doc: "Ollama's own variable, read like the ollama CLI does; the default endpoint for provider ollama",
};
pub const XDG_CONFIG_HOME: EnvVar = EnvVar {
    name: "XDG_CONFIG_HOME",
    doc: "base folder of the config file (default $HOME/.config)",
};
pub const XDG_CONFIG_DIRS: EnvVar = EnvVar {
    name: "XDG_CONFIG_DIRS",
    doc: "system config folders (default /etc/xdg), read when the user has no config file",
};
pub const HOME: EnvVar = EnvVar {
    name: "HOME",
    doc: "used for the default config folder when XDG_CONFIG_HOME is unset",
};

/// All of them, in documentation order.
pub const ALL: [EnvVar; 13] = [
    CONFIG,
    PROVIDER,
    ENDPOINT,
    MODEL,
    NUM_CTX,
    TIMEOUT_SECS,
    STALL_TIMEOUT_SECS,
    HOOK_TIMEOUT_SECS,
    API_KEY_FILE,
    OLLAMA_HOST,
    XDG_CONFIG_HOME,
    XDG_CONFIG_DIRS,
    HOME,
];
