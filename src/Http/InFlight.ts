/** Probes must answer while busy (a shed probe would restart a healthy replica); media sockets are long-lived. */
export const exemptFromShedding = (url: string) => url.startsWith("/health/") || url.startsWith("/media-stream")

/** How many requests this process is serving now (one replica's count; each sheds on its own). The edge counts in and out. */
export const makeInFlight = () => {
  const state = { count: 0 }
  return {
    get count() {
      return state.count
    },
    enter: () => {
      state.count++
    },
    leave: () => {
      state.count--
    }
  }
}
