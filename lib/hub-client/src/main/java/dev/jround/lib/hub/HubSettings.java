package dev.jround.lib.hub;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Where the Hub is and how to talk to it, read from the same environment variables the Python tools use:
 * {@code HF_ENDPOINT}, {@code HF_TOKEN} (else the token file {@code HF_TOKEN_PATH} or {@code HF_HOME/token}),
 * {@code HF_HUB_OFFLINE}, and for the cache {@code HF_HUB_CACHE}, else {@code HF_HOME/hub}, else
 * {@code $XDG_CACHE_HOME/huggingface/hub}, else {@code ~/.cache/huggingface/hub}.
 *
 * @param endpoint base URL of the Hub, without a trailing slash
 * @param token    access token, or {@code null}
 * @param offline  true if the network must not be touched
 * @param cacheDir the hub cache directory (it may not exist yet)
 * @param proxy    {@code HTTPS_PROXY}/{@code HTTP_PROXY} and {@code NO_PROXY} as found, for the HTTP client
 */
public record HubSettings(URI endpoint, String token, boolean offline, Path cacheDir, ProxySettings proxy) {

    public static final String DEFAULT_ENDPOINT = "https://huggingface.co";
    private static final Set<String> TRUE_VALUES = Set.of("1", "ON", "YES", "TRUE");

    /** Proxy variables of the environment; empty strings when unset. */
    public record ProxySettings(String httpsProxy, String httpProxy, String noProxy) {
        public static final ProxySettings NONE = new ProxySettings("", "", "");
    }

    public HubSettings {
        String e = endpoint.toString();
        while (e.endsWith("/")) {
            e = e.substring(0, e.length() - 1);
        }
        endpoint = URI.create(e);
        token = token == null || token.isBlank() ? null : token.strip();
        proxy = proxy == null ? ProxySettings.NONE : proxy;
    }

    /** Settings for a given cache and endpoint, online, without token or proxy (tests, embedding). */
    public static HubSettings of(URI endpoint, Path cacheDir) {
        return new HubSettings(endpoint, null, false, cacheDir, ProxySettings.NONE);
    }

    public HubSettings withToken(String newToken) {
        return new HubSettings(endpoint, newToken, offline, cacheDir, proxy);
    }

    public HubSettings withOffline(boolean newOffline) {
        return new HubSettings(endpoint, token, newOffline, cacheDir, proxy);
    }

    /** The same Hub, token and proxy over another cache (the dataset provider's first cache root). */
    public HubSettings withCacheDir(Path newCacheDir) {
        return new HubSettings(endpoint, token, offline, newCacheDir, proxy);
    }

    /** The settings of this process's environment. */
    public static HubSettings fromEnvironment() {
        return fromEnvironment(System.getenv(), Path.of(System.getProperty("user.home")));
    }

    /** The settings a process with environment {@code env} and home directory {@code home} would use. */
    public static HubSettings fromEnvironment(Map<String, String> env, Path home) {
        Path hfHome = hfHome(env, home);
        Path cache;
        if (nonEmpty(env.get("HF_HUB_CACHE"))) {
            cache = expand(env.get("HF_HUB_CACHE"), home);
        } else if (nonEmpty(env.get("HUGGINGFACE_HUB_CACHE"))) {
            cache = expand(env.get("HUGGINGFACE_HUB_CACHE"), home);
        } else {
            cache = hfHome.resolve("hub");
        }
        String endpoint = nonEmpty(env.get("HF_ENDPOINT")) ? env.get("HF_ENDPOINT").strip() : DEFAULT_ENDPOINT;
        String token = nonEmpty(env.get("HF_TOKEN")) ? env.get("HF_TOKEN")
                : nonEmpty(env.get("HUGGING_FACE_HUB_TOKEN")) ? env.get("HUGGING_FACE_HUB_TOKEN")
                : readTokenFile(nonEmpty(env.get("HF_TOKEN_PATH")) ? expand(env.get("HF_TOKEN_PATH"), home) : hfHome.resolve("token"));
        boolean offline = isTrue(env.get("HF_HUB_OFFLINE")) || isTrue(env.get("TRANSFORMERS_OFFLINE"));
        ProxySettings proxy = new ProxySettings(
                firstNonEmpty(env.get("HTTPS_PROXY"), env.get("https_proxy")),
                firstNonEmpty(env.get("HTTP_PROXY"), env.get("http_proxy")),
                firstNonEmpty(env.get("NO_PROXY"), env.get("no_proxy")));
        return new HubSettings(URI.create(endpoint), token, offline, cache, proxy);
    }

    /** {@code HF_DATASETS_CACHE}, else {@code $HF_HOME/datasets}: where the datasets library keeps its cache. */
    public static Path datasetsCache(Map<String, String> env, Path home) {
        return nonEmpty(env.get("HF_DATASETS_CACHE")) ? expand(env.get("HF_DATASETS_CACHE"), home) : hfHome(env, home).resolve("datasets");
    }

    /** Datasets are offline when {@code HF_HUB_OFFLINE} or {@code HF_DATASETS_OFFLINE} is set true. */
    public static boolean datasetsOffline(Map<String, String> env) {
        return isTrue(env.get("HF_HUB_OFFLINE")) || isTrue(env.get("HF_DATASETS_OFFLINE"));
    }

    /** {@code HF_HOME}, else {@code $XDG_CACHE_HOME/huggingface}, else {@code ~/.cache/huggingface}. */
    public static Path hfHome(Map<String, String> env, Path home) {
        if (nonEmpty(env.get("HF_HOME"))) {
            return expand(env.get("HF_HOME"), home);
        }
        Path xdg = nonEmpty(env.get("XDG_CACHE_HOME")) ? expand(env.get("XDG_CACHE_HOME"), home) : home.resolve(".cache");
        return xdg.resolve("huggingface");
    }

    static boolean isTrue(String value) {
        return value != null && TRUE_VALUES.contains(value.strip().toUpperCase(Locale.ROOT));
    }

    private static String readTokenFile(Path p) {
        try {
            return Files.isRegularFile(p) ? Files.readString(p, StandardCharsets.UTF_8).strip() : null;
        } catch (IOException e) {
            return null;
        }
    }

    private static Path expand(String p, Path home) {
        String s = p.strip();
        if (s.equals("~")) {
            return home;
        }
        return s.startsWith("~/") ? home.resolve(s.substring(2)) : Path.of(s);
    }

    private static boolean nonEmpty(String s) {
        return s != null && !s.isBlank();
    }

    private static String firstNonEmpty(String a, String b) {
        return nonEmpty(a) ? a.strip() : nonEmpty(b) ? b.strip() : "";
    }

    /** What the token looks like in messages: never the token itself. */
    @Override
    public String toString() {
        return "HubSettings[endpoint=" + endpoint + ", token=" + (token == null ? "none" : "set") + ", offline=" + offline
                + ", cacheDir=" + cacheDir + "]";
    }
}
