package dev.jround.kernel.calib;

import dev.jround.spi.InvalidInputException;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SpecParserTest {

    @Test
    void singleNameHasDefaults() {
        DatasetSpec s = SpecParser.parse("NeelNanda/pile-10k");
        assertEquals(1, s.entries().size());
        DatasetSpec.Entry e = s.entries().get(0);
        assertEquals("NeelNanda/pile-10k", e.name());
        assertNull(e.num());
        assertEquals(List.of(), e.splits());
        assertFalse(e.concat());
        assertFalse(e.applyChatTemplate());
        assertEquals(SpecParser.DEFAULT_SYSTEM_PROMPT, e.systemPrompt());
    }

    @Test
    void localPathsMixWithNamesAndParameters() {
        DatasetSpec s = SpecParser.parse("./my.json,NeelNanda/pile-10k:num=256,mbpp:num=128:split=train+validation");
        assertEquals(List.of("./my.json", "NeelNanda/pile-10k", "mbpp"), s.entries().stream().map(DatasetSpec.Entry::name).toList());
        assertEquals(256, s.entries().get(1).num());
        assertEquals(128, s.entries().get(2).num());
        assertEquals(List.of("train", "validation"), s.entries().get(2).splits());
        assertEquals("mbpp:num=128:split=train+validation", s.entries().get(2).raw());
    }

    @Test
    void concatAndChatTemplateFlagsWithAndWithoutValues() {
        DatasetSpec s = SpecParser.parse("a.json:concat,b.json:concat=True,c.json:concat=FALSE,d.json:concat=no,"
                + "e.json:apply_chat_template,f.json:apply_chat_template=false");
        List<DatasetSpec.Entry> e = s.entries();
        assertTrue(e.get(0).concat());
        assertTrue(e.get(1).concat());
        assertFalse(e.get(2).concat());
        assertTrue(e.get(3).concat(), "any value except false enables it, as in the reference");
        assertTrue(e.get(4).applyChatTemplate());
        assertFalse(e.get(5).applyChatTemplate());
    }

    @Test
    void systemPromptEnablesTemplateLosesSpacesAndCarriesOver() {
        DatasetSpec s = SpecParser.parse("a.json:system_prompt=You are a tester.,b.json:apply_chat_template,c.json");
        assertEquals("a.json:system_prompt=Youareatester.,b.json:apply_chat_template,c.json", s.text());
        assertTrue(s.entries().get(0).applyChatTemplate());
        assertEquals("Youareatester.", s.entries().get(0).systemPrompt());
        assertEquals("Youareatester.", s.entries().get(1).systemPrompt());
        assertTrue(s.entries().get(1).applyChatTemplate());
        assertFalse(s.entries().get(2).applyChatTemplate());
    }

    @Test
    void apiPathKeepsSpaces() {
        DatasetSpec s = SpecParser.parse("a.json:system_prompt=You are a tester.", false);
        assertEquals("You are a tester.", s.entries().get(0).systemPrompt());
    }

    @Test
    void emptySystemPromptStillEnablesTemplateWithoutSystemMessage() {
        DatasetSpec.Entry e = SpecParser.parse("a.json:system_prompt=").entries().get(0);
        assertTrue(e.applyChatTemplate());
        assertEquals("", e.systemPrompt());
        DatasetSpec.Entry bare = SpecParser.parse("a.json:system_prompt").entries().get(0);
        assertEquals("", bare.systemPrompt());
    }

    @Test
    void valueEndsAtSecondEquals() {
        DatasetSpec.Entry e = SpecParser.parse("a.json:system_prompt=x=y").entries().get(0);
        assertEquals("x", e.systemPrompt());
    }

    @Test
    void providerParamsCarryTheResolvedSettings() {
        Map<String, String> p = SpecParser.parse("mbpp:num=3:split=train+test:concat").entries().get(0).providerParams();
        assertEquals("3", p.get("num"));
        assertEquals("train+test", p.get("split"));
        assertEquals("true", p.get("concat"));
        assertEquals("false", p.get("apply_chat_template"));
    }

    private static String error(String spec) {
        return assertThrows(InvalidInputException.class, () -> SpecParser.parse(spec)).getMessage();
    }

    @Test
    void malformedSpecsNameTheOffendingPart() {
        assertTrue(error("").contains("empty"));
        assertTrue(error("a.json,,b.json").contains("empty entry at position 2"));
        assertTrue(error("a.json,").contains("empty entry at position 2"));
        assertTrue(error(":num=3").contains("':num=3' has no dataset name"));
        assertTrue(error("num=3").contains("'num=3' starts with a parameter"));
        assertTrue(error("a.json::num=3").contains("empty parameter"));
        assertTrue(error("a.json:nun=3").contains("unknown parameter 'nun'"));
        assertTrue(error("a.json:num=abc").contains("'num=abc'"));
        assertTrue(error("a.json:num=-1").contains("'num=-1'"));
        assertTrue(error("a.json:num").contains("'num' needs a value"));
        assertTrue(error("mbpp:split=").contains("'split' needs a value"));
        assertTrue(error("mbpp:split=train++test").contains("empty split name"));
        assertTrue(error("a.json:num=2,a.json").contains("appears twice"));
        InvalidInputException ex = assertThrows(InvalidInputException.class, () -> SpecParser.parse("a.json:nun=3"));
        assertTrue(ex.hint().contains("num=N"));
        assertEquals(2, ex.exitCode());
    }

    @Test
    void sameDatasetTwiceWithoutNumIsAllowed() {
        assertEquals(2, SpecParser.parse("mbpp:split=train,mbpp:split=test").entries().size());
    }
}
