package pae

import "time"

// accept opens the port for the supplicant and then sends EAP-Success, so
// the supplicant never receives Success for a port that failed to open.
func (p *Port) accept(s *session, reply BackendReply) {
	if err := p.authorize(s, reply.VLAN); err != nil {
		p.send(s.mac, resultPacket(eapFailure, s.responseID))
		p.observeSession(s, Event{Kind: EventPortError, Err: err})
		p.end(s, ReasonPortError, err)
		return
	}
	p.send(s.mac, finalPacket(reply.EAP, eapSuccess, s.responseID))
	s.state = stateAuthenticated
	s.radius = nil
	s.lastRequest = nil
	p.observeSession(s, Event{Kind: EventAuthorized, VLAN: s.vlan})
	switch {
	case reply.SessionTimeout > 0:
		s.reauth = reply.TerminationAction == TerminationRADIUSRequest
		p.schedule(s, reply.SessionTimeout)
	case p.cfg.ReauthPeriod > 0:
		s.reauth = true
		p.schedule(s, p.cfg.ReauthPeriod)
	default:
		s.stopTimer()
	}
}

func (p *Port) authorize(s *session, vlan string) error {
	if err := p.ctl.Authorize(p.name, s.mac, vlan); err != nil {
		return err
	}
	s.authorized = true
	s.vlan = vlan
	if p.cfg.Mode == MultiHost {
		return p.ctl.Unlock(p.name)
	}
	return nil
}

// reject sends EAP-Failure, closes the port if a reauthentication failed
// and holds the supplicant for QuietPeriod.
func (p *Port) reject(s *session, reply BackendReply) {
	p.send(s.mac, finalPacket(reply.EAP, eapFailure, s.responseID))
	p.deauthorize(s)
	s.state = stateHeld
	s.radius = nil
	s.lastRequest = nil
	p.observeSession(s, Event{Kind: EventRejected})
	p.schedule(s, p.cfg.QuietPeriod)
}

// finalPacket returns the server's EAP-Success or EAP-Failure, or builds one
// when the server sent none or a packet of another code.
func finalPacket(eap []byte, code, id uint8) []byte {
	if h, err := parseEAP(eap); err == nil && h.code == code {
		return eap
	}
	return resultPacket(code, id)
}

func (p *Port) deauthorize(s *session) {
	if !s.authorized {
		return
	}
	s.authorized = false
	s.vlan = ""
	var err error
	if p.cfg.Mode == MultiHost {
		err = p.ctl.Lock(p.name)
	} else {
		err = p.ctl.Deauthorize(p.name, s.mac)
	}
	if err != nil {
		p.observeSession(s, Event{Kind: EventPortError, Err: err})
	}
}

// end closes the port for the supplicant and deletes its session.
func (p *Port) end(s *session, reason string, err error) {
	p.deauthorize(s)
	p.drop(s)
	p.observeSession(s, Event{Kind: EventSessionEnded, Reason: reason, Err: err})
}

// drop removes the session without touching the port.
func (p *Port) drop(s *session) {
	s.stopTimer()
	s.exchange++
	delete(p.sessions, string(s.mac))
}

// schedule replaces the timer of the session.
func (p *Port) schedule(s *session, d time.Duration) {
	s.stopTimer()
	gen := s.timerGen
	s.timer = p.cfg.Clock.AfterFunc(d, func() {
		p.mu.Lock()
		defer p.mu.Unlock()
		if s.timerGen != gen || p.sessions[string(s.mac)] != s {
			return // stopped or replaced after it had fired
		}
		s.timer = nil
		p.onTimer(s)
	})
}

func (s *session) stopTimer() {
	s.timerGen++
	if s.timer != nil {
		s.timer.Stop()
		s.timer = nil
	}
}

// onTimer handles the expiry of the one timer that each state has: txWhen
// and suppTimeout retransmit the last request, the authenticated timer
// reauthenticates or ends the session, and quietWhile restarts it.
func (p *Port) onTimer(s *session) {
	switch s.state {
	case stateConnecting, stateAuthenticating:
		if s.resends >= p.cfg.MaxRequests {
			p.end(s, ReasonSupplicantTimeout, nil)
			return
		}
		s.resends++
		p.send(s.mac, s.lastRequest)
		wait := p.cfg.SupplicantTimeout
		if s.state == stateConnecting {
			wait = p.cfg.TxPeriod
		}
		p.schedule(s, wait)
	case stateAuthenticated:
		if !s.reauth {
			p.end(s, ReasonSessionTimeout, nil)
			return
		}
		p.observeSession(s, Event{Kind: EventReauthenticating})
		p.connect(s)
	case stateHeld:
		p.connect(s)
	}
}
