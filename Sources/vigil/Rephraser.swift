import Foundation
import VigilAnalyst
import VigilCore
import VigilHTTP

/// Asks a local OpenAI-compatible endpoint (llama.cpp's server, vLLM, Ollama's /v1) to reword
/// each incident's narrative, and keeps a rewording only when `NarrativeCheck` finds exactly
/// the write-up's facts in it. The model never sees anything but the narrative, and nothing it
/// says changes a title, a score, a grouping or a conclusion.
///
/// A slow or stuck model costs bounded time: each answer is capped in tokens (about the
/// write-up's length) and in seconds, all of them together in `budget` seconds, and after two
/// incidents in a row without an answer the rest are not asked.
struct Rephraser {
    let base: String
    let model: String
    var timeout: Double = 60
    var budget: Double = 300
    var maxIncidents = 25

    init(url: String, model: String) throws {
        let u = url.hasSuffix("/") ? String(url.dropLast()) : url
        guard (u.hasPrefix("http://") || u.hasPrefix("https://")), URL(string: u)?.host != nil else {
            throw VigilError.usage("--rephrase takes the base URL of an OpenAI-compatible API, like http://127.0.0.1:8080/v1")
        }
        base = u
        self.model = model
    }

    /// The incidents with `rephrasing` set where the model's answer passed the check; one
    /// line per incident on what happened.
    func rephrase(_ incidents: [Incident]) -> ([Incident], [String]) {
        var out = incidents, notes: [String] = []
        let deadline = Date().addingTimeInterval(budget)
        var silent = 0
        for k in out.indices.prefix(maxIncidents) where !out[k].narrative.isEmpty {
            let left = deadline.timeIntervalSinceNow
            if silent >= 2 || left < 1 {
                notes.append("\(out[k].id): kept the deterministic write-up: not asked (\(silent >= 2 ? "the endpoint did not answer the last two" : "the \(Int(budget)) s for rewording are spent"))")
                continue
            }
            switch ask(NarrativeCheck.prompt(out[k]), timeout: min(timeout, left)) {
            case .failure(let why):
                silent += why.answered ? 0 : 1
                notes.append("\(out[k].id): kept the deterministic write-up: \(why)")
            case .success(let text):
                silent = 0
                switch NarrativeCheck.check(original: out[k].narrative, candidate: text) {
                case .accepted(let paragraphs): out[k].rephrasing = Rephrasing(model: model, narrative: paragraphs); notes.append("\(out[k].id): reworded by \(model)")
                case .refused(let why): notes.append("\(out[k].id): kept the deterministic write-up: the rewording \(why)")
                }
            }
        }
        return (out, notes)
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
        /// The endpoint answered (with an error, or cut short), as opposed to not at all.
        var answered: Bool
    }

    /// Tokens the model may spend: about one per two bytes of the write-up, enough for a
    /// rewording as long as the original in figures and addresses, which tokenize densely.
    static func maxTokens(for text: String) -> Int { text.utf8.count / 2 + 64 }

    func ask(_ text: String, timeout: Double) -> Result<String, Failure> {
        let limit = Self.maxTokens(for: text)
        let body: [String: Any] = ["model": model, "temperature": 0, "stream": false, "max_tokens": limit,
                                   "messages": [["role": "system", "content": NarrativeCheck.instructions], ["role": "user", "content": text]]]
        let bytes = (try? JSONSerialization.data(withJSONObject: body)).map { [UInt8]($0) } ?? []
        let r = OutgoingRequest("POST", base + "/chat/completions",
                            headers: [("Content-Type", "application/json"), ("Accept", "application/json")], body: bytes, timeout: timeout)
        let a: HTTPClient.Answer
        switch HTTPClient.send(r, maxBody: 4 << 20) {
        case .failure(let f): return .failure(Failure(description: "the endpoint did not answer: \(f)", answered: false))
        case .success(let got): a = got
        }
        guard a.status == 200, let o = (try? JSONSerialization.jsonObject(with: Data(a.body))) as? [String: Any],
              let choices = o["choices"] as? [[String: Any]], let message = choices.first?["message"] as? [String: Any],
              let content = message["content"] as? String else {
            return .failure(Failure(description: "the endpoint answered HTTP \(a.status) without a chat completion", answered: true))
        }
        if choices.first?["finish_reason"] as? String == "length" {
            return .failure(Failure(description: "the model was still writing at its limit of \(limit) tokens", answered: true))
        }
        return .success(content)
    }
}
