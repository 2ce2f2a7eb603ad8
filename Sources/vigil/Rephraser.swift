import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import VigilAnalyst
import VigilCore
import VigilHTTP

/// Asks a local OpenAI-compatible endpoint (llama.cpp's server, vLLM, Ollama's /v1) to reword
/// each incident's narrative, and keeps a rewording only when `NarrativeCheck` finds exactly
/// the write-up's facts in it. The model never sees anything but the narrative, and nothing it
/// says changes a title, a score, a grouping or a conclusion.
struct Rephraser {
    let base: URL
    let model: String
    var timeout: Double = 60
    var maxIncidents = 25

    init(url: String, model: String) throws {
        guard let u = URL(string: url.hasSuffix("/") ? String(url.dropLast()) : url), u.scheme == "http" || u.scheme == "https" else {
            throw VigilError.usage("--rephrase takes the base URL of an OpenAI-compatible API, like http://127.0.0.1:8080/v1")
        }
        base = u
        self.model = model
    }

    /// The incidents with `rephrasing` set where the model's answer passed the check; one
    /// line per incident on what happened.
    func rephrase(_ incidents: [Incident]) -> ([Incident], [String]) {
        var out = incidents, notes: [String] = []
        for k in out.indices.prefix(maxIncidents) where !out[k].narrative.isEmpty {
            switch ask(NarrativeCheck.prompt(out[k])) {
            case .failure(let why): notes.append("\(out[k].id): kept the deterministic write-up: \(why)")
            case .success(let text):
                switch NarrativeCheck.check(original: out[k].narrative, candidate: text) {
                case .accepted(let paragraphs): out[k].rephrasing = Rephrasing(model: model, narrative: paragraphs); notes.append("\(out[k].id): reworded by \(model)")
                case .refused(let why): notes.append("\(out[k].id): kept the deterministic write-up: the rewording \(why)")
                }
            }
        }
        return (out, notes)
    }

    struct Failure: Error, CustomStringConvertible { var description: String }

    func ask(_ text: String) -> Result<String, Failure> {
        var r = URLRequest(url: base.appendingPathComponent("chat/completions"), timeoutInterval: timeout)
        r.httpMethod = "POST"
        r.setValue("application/json", forHTTPHeaderField: "Content-Type")
        let body: [String: Any] = ["model": model, "temperature": 0, "stream": false,
                                   "messages": [["role": "system", "content": NarrativeCheck.instructions], ["role": "user", "content": text]]]
        r.httpBody = try? JSONSerialization.data(withJSONObject: body)
        let a: HTTPFetch.Answer
        switch HTTPFetch.send(r, timeout: timeout) {
        case .failure(let f): return .failure(Failure(description: "the endpoint did not answer: \(f)"))
        case .success(let got): a = got
        }
        guard a.status == 200, let o = (try? JSONSerialization.jsonObject(with: a.body)) as? [String: Any],
              let choices = o["choices"] as? [[String: Any]], let message = choices.first?["message"] as? [String: Any],
              let content = message["content"] as? String else {
            return .failure(Failure(description: "the endpoint answered HTTP \(a.status) without a chat completion"))
        }
        return .success(content)
    }
}
