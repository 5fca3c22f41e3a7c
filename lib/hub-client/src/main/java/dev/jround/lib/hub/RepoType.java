package dev.jround.lib.hub;

/** The two kinds of Hugging Face repository jround reads: how each is named in URLs and in the cache. */
public enum RepoType {
    MODEL("models", ""),
    DATASET("datasets", "datasets/");

    private final String plural;
    private final String urlPrefix;

    RepoType(String plural, String urlPrefix) {
        this.plural = plural;
        this.urlPrefix = urlPrefix;
    }

    /** {@code models} or {@code datasets}: the API path segment and the cache folder prefix. */
    public String plural() {
        return plural;
    }

    /** Prefix of the repo id in {@code /resolve/} URLs: empty for models, {@code datasets/} for datasets. */
    public String urlPrefix() {
        return urlPrefix;
    }

    /** Cache folder of a repo, e.g. {@code models--Qwen--Qwen3-0.6B}, exactly as huggingface_hub names it. */
    public String folderName(String repoId) {
        return plural + "--" + repoId.replace("/", "--");
    }
}
