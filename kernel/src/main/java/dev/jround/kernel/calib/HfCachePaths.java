package dev.jround.kernel.calib;

import dev.jround.lib.hub.HubSettings;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Where the Python Hugging Face libraries keep their caches, for the calibration pipeline. The environment is read
 * by {@link HubSettings} alone, so models, datasets and downloads agree on every variable.
 */
public final class HfCachePaths {

    private HfCachePaths() {
    }

    private static Path userHome() {
        return Path.of(System.getProperty("user.home"));
    }

    /** {@code HF_HOME}, else {@code $XDG_CACHE_HOME/huggingface}, else {@code ~/.cache/huggingface}. */
    public static Path home(Map<String, String> env) {
        return HubSettings.hfHome(env, userHome());
    }

    /**
     * Roots to search, hub cache first: {@code HF_HUB_CACHE} (or the legacy {@code HUGGINGFACE_HUB_CACHE},
     * else {@code $HF_HOME/hub}), then {@code HF_DATASETS_CACHE} (else {@code $HF_HOME/datasets}).
     */
    public static List<Path> roots(Map<String, String> env) {
        return List.of(HubSettings.fromEnvironment(env, userHome()).cacheDir(), HubSettings.datasetsCache(env, userHome()));
    }

    /** Offline when {@code HF_HUB_OFFLINE} or {@code HF_DATASETS_OFFLINE} is 1/true/yes/on. */
    public static boolean online(Map<String, String> env) {
        return !HubSettings.datasetsOffline(env);
    }
}
