package dev.jround.kernel.calib;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/** Where the Python Hugging Face libraries keep their caches, from the same environment variables. */
public final class HfCachePaths {

    private static final Set<String> TRUE = Set.of("1", "true", "yes", "on");

    private HfCachePaths() {
    }

    /** {@code HF_HOME}, else {@code $XDG_CACHE_HOME/huggingface}, else {@code ~/.cache/huggingface}. */
    public static Path home(Map<String, String> env) {
        String hfHome = env.get("HF_HOME");
        if (hfHome != null && !hfHome.isBlank()) {
            return Path.of(hfHome);
        }
        String xdg = env.get("XDG_CACHE_HOME");
        if (xdg != null && !xdg.isBlank()) {
            return Path.of(xdg, "huggingface");
        }
        return Path.of(System.getProperty("user.home"), ".cache", "huggingface");
    }

    /**
     * Roots to search, hub cache first: {@code HF_HUB_CACHE} (or the legacy {@code HUGGINGFACE_HUB_CACHE},
     * else {@code $HF_HOME/hub}), then {@code HF_DATASETS_CACHE} (else {@code $HF_HOME/datasets}).
     */
    public static List<Path> roots(Map<String, String> env) {
        List<Path> roots = new ArrayList<>();
        String hub = firstSet(env, "HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE");
        roots.add(hub != null ? Path.of(hub) : home(env).resolve("hub"));
        String ds = firstSet(env, "HF_DATASETS_CACHE");
        roots.add(ds != null ? Path.of(ds) : home(env).resolve("datasets"));
        return List.copyOf(roots);
    }

    /** Offline when {@code HF_HUB_OFFLINE} or {@code HF_DATASETS_OFFLINE} is 1/true/yes/on. */
    public static boolean online(Map<String, String> env) {
        for (String key : List.of("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE")) {
            String v = env.get(key);
            if (v != null && TRUE.contains(v.strip().toLowerCase(Locale.ROOT))) {
                return false;
            }
        }
        return true;
    }

    private static String firstSet(Map<String, String> env, String... keys) {
        for (String k : keys) {
            String v = env.get(k);
            if (v != null && !v.isBlank()) {
                return v;
            }
        }
        return null;
    }
}
